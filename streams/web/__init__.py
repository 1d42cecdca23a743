"""The worker's web pages and who may read them: the API, the board, access tokens."""
