# Sourced by test.sh: the board's browser test drives Debian's Chromium through its
# ChromeDriver (a test tool's own browser download does not work on a closed network).
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    echo "installing Debian's chromium and chromium-driver for the board's browser test ..."
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
            $sudo apt-get install -y -qq chromium chromium-driver >/dev/null; }; then
        echo "could not install chromium and chromium-driver with apt-get;" \
             "install them (Debian packages) and run again." >&2
        exit 2
    fi
fi
