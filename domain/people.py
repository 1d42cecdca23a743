"""People and what they do: HR's organisation events, activities that earn points,
collaboration, redemptions, and nominations for the cross-functional pool."""

from __future__ import annotations

from domain.awards import InnovationProposal, Nomination
from domain.booking import book, points_draft
from domain.events import (
    ActivityLogged,
    CollaborationConfirmed,
    NominationMade,
    PointsRedeemed,
    ProposalAdopted,
    RepHired,
    RepLeft,
    RepMoved,
)
from domain.frozen import updated
from domain.money import format_money
from domain.points import (
    PointsLine,
    points_for_activity,
    points_for_collaboration,
    pts,
)
from domain.rep import RepState, Source
from domain.world import Lines, Person, Refused, World, plan_at, rep_of


def hire(world: World, event: RepHired) -> tuple[World, Lines]:
    known = world.people.get(event.rep_id)
    if known is not None and known.left_at is None:
        msg = f"rep {event.rep_id} is already employed; send RepMoved to change them"
        raise Refused("conflict", msg)
    person = Person(
        rep_id=event.rep_id,
        team_id=event.team_id,
        region=event.region,
        role=event.role,
        grade=event.grade,
        hired_at=event.hired_at,
        placements=((event.hired_at, event.team_id, event.region),),
    )
    return _with_person(world, person), ()


def move(world: World, event: RepMoved) -> tuple[World, Lines]:
    known = _employed(world, event.rep_id, "RepMoved")
    placements = known.placements or ((known.hired_at, known.team_id, known.region),)
    placed = (event.occurred_at, event.team_id, event.region)
    # In time order whatever the arrival order; the latest is where the rep sits.
    placements = tuple(sorted((*placements, placed), key=lambda p: p[0]))
    _, team_id, region = placements[-1]
    person = updated(
        known,
        team_id=team_id,
        region=region,
        role=event.role,
        grade=event.grade,
        placements=placements,
    )
    return _with_person(world, person), ()


def leave(world: World, event: RepLeft) -> tuple[World, Lines]:
    known = _employed(world, event.rep_id, "RepLeft")
    person = updated(known, left_at=event.occurred_at)
    return _with_person(world, person), ()


def _with_person(world: World, person: Person) -> World:
    return updated(world, people=world.people.set(person.rep_id, person))


def _employed(world: World, rep_id: str, what: str) -> Person:
    known = world.people.get(rep_id)
    if known is None or known.left_at is not None:
        raise Refused("unknown_rep", f"{what} refers to {rep_id}, who is not employed")
    return known


def log_activity(world: World, event: ActivityLogged) -> tuple[World, Lines]:
    """积分制 过程行为; a mentee who passed counts towards the promotion signal."""
    rep = rep_of(world, event.rep_id)
    if event.kind == "mentee_passed":
        rep = updated(rep, mentees_passed=rep.mentees_passed + 1)
        return updated(world, reps=world.reps.set(rep.rep_id, rep)), ()
    plan = plan_at(world, event.occurred_at)
    if plan.points is None:
        return world, ()
    found = points_for_activity(
        event.kind,
        event.complete,
        plan.points,
        rep_id=rep.rep_id,
        event_id=event.event_id,
    )
    return _book_points(world, rep, found, event.event_id, event)


def confirm_collaboration(
    world: World, event: CollaborationConfirmed
) -> tuple[World, Lines]:
    """积分制 协作: the beneficiary's confirmation earns the helper points."""
    if event.helper_rep_id == event.beneficiary_rep_id:
        raise Refused("invalid", "a rep cannot confirm collaboration with themselves")
    plan = plan_at(world, event.occurred_at)
    if plan.points is None:
        return world, ()
    found = points_for_collaboration(
        event.helper_rep_id,
        event.beneficiary_rep_id,
        event.beneficiary_rep_id,
        plan.points,
        event_id=event.event_id,
    )
    rep = rep_of(world, event.helper_rep_id)
    return _book_points(world, rep, found, event.event_id, event)


def redeem_points(world: World, event: PointsRedeemed) -> tuple[World, Lines]:
    """积分兑换: spend points; beyond the balance the redemption is refused."""
    rep = rep_of(world, event.rep_id)
    balance = rep.total("points")
    if event.points > balance:
        msg = f"redeeming {pts(event.points)} points exceeds {rep.rep_id}'s balance "
        msg += f"of {pts(balance)}"
        raise Refused("insufficient_points", msg)
    item = PointsLine(
        rep_id=rep.rep_id,
        rule="redemption",
        points=-event.points,
        formula=f"redeemed {pts(event.points)} points for {event.reward}",
        source_event_ids=(event.event_id,),
    )
    return _book_points(world, rep, (item,), event.event_id, event)


def _book_points(
    world: World,
    rep: RepState,
    found: tuple[PointsLine, ...],
    event_id: str,
    event: ActivityLogged | CollaborationConfirmed | PointsRedeemed,
) -> tuple[World, Lines]:
    plan = plan_at(world, event.occurred_at)
    source = Source(event_id, event.occurred_at)
    rep, lines = book(rep, (points_draft(rep.rep_id, plan, p, source) for p in found))
    return updated(world, reps=world.reps.set(rep.rep_id, rep)), lines


def nominate(world: World, event: NominationMade) -> tuple[World, Lines]:
    """需销售部门提名: a nomination unlocks the pool for its nominee at period close
    (the same ``nomination_id`` again is one fact: ``domain.naturalkeys``)."""
    nomination = Nomination(
        nomination_id=event.nomination_id,
        nominee_id=event.nominee_id,
        nominated_by=event.nominated_by,
        pool=event.pool,
        period=event.period,
    )
    nominations = (*world.nominations, nomination)
    return updated(world, nominations=nominations), ()


def adopt_proposal(world: World, event: ProposalAdopted) -> tuple[World, Lines]:
    """Innovation award: an adopted proposal waits for its period's close.

    The handler knows its fact by ``proposal_id``. The approval comes as the same
    proposal sent again with ``approved_by`` (often from the approval system, later):
    it approves the waiting proposal, and a closed period's awards are made again.
    The same proposal again (approved or not) changes nothing; other terms, or
    another approver, are a conflict."""
    proposal = InnovationProposal(
        proposal_id=event.proposal_id,
        rep_id=event.rep_id,
        period=event.period,
        measured_uplift=event.measured_uplift,
        adopted=True,
        approved_by=event.approved_by,
    )
    proposals = world.proposals
    at = next(
        (n for n, p in enumerate(proposals) if p.proposal_id == event.proposal_id),
        None,
    )
    if at is None:
        return updated(world, proposals=(*proposals, proposal)), ()
    known = proposals[at]
    terms = (known.rep_id, known.period, known.measured_uplift)
    if terms != (proposal.rep_id, proposal.period, proposal.measured_uplift):
        uplift = format_money(known.measured_uplift)
        msg = f"proposal {known.proposal_id} was already recorded with other terms "
        msg += f"(rep {known.rep_id}, {known.period}, uplift {uplift})"
        raise Refused("conflict", msg)
    if proposal.approved_by is None or proposal.approved_by == known.approved_by:
        return world, ()  # the same proposal again
    if known.approved_by is not None:
        msg = f"proposal {known.proposal_id} was already approved by "
        msg += f"{known.approved_by}, not {proposal.approved_by}"
        raise Refused("conflict", msg)
    approved = (*proposals[:at], proposal, *proposals[at + 1 :])
    return updated(world, proposals=approved), ()
