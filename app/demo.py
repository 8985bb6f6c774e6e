"""The sample meeting `covote demo` starts with: made up, but shaped like a real one."""

from __future__ import annotations

from app.records import MeetingFile, ProposalFile, RuleFile, SegmentFile


def riverside() -> MeetingFile:
    segments = [
        SegmentFile(id="service-user", label="Service user", protects=True),
        SegmentFile(id="carer", label="Carer", protects=True),
        SegmentFile(id="resident", label="Resident", protects=True),
        SegmentFile(id="business", label="Local business", protects=True),
        SegmentFile(id="north", label="Area: North", protects=True),
        SegmentFile(id="south", label="Area: South", protects=True),
        SegmentFile(id="staff", label="Council staff", protects=False),
    ]
    p = ProposalFile
    proposals = [
        p(
            id="mobile-library",
            title="Mobile library",
            kind="keep",
            saving=48000,
            description="The weekly library van serving villages without a branch library.",
            affected_groups=["north", "service-user"],
        ),
        p(
            id="day-centre",
            title="Riverside day centre",
            kind="keep",
            saving=120000,
            description="Day activities for adults with learning disabilities, five days a week.",
            affected_groups=["service-user", "carer"],
        ),
        p(
            id="community-transport",
            title="Community transport (dial-a-ride)",
            kind="keep",
            saving=65000,
            description="Door-to-door minibus for people who cannot use buses.",
            affected_groups=["service-user", "south"],
        ),
        p(
            id="park-toilets",
            title="Public toilets in Riverside Park",
            kind="keep",
            saving=22000,
            description="Opening and cleaning the park toilets from April to October.",
            affected_groups=["resident"],
        ),
        p(
            id="youth-club",
            title="Saturday youth club",
            kind="keep",
            saving=35000,
            description="Two youth workers and the hall on Saturday afternoons.",
            affected_groups=["south"],
        ),
        p(
            id="respite-breaks",
            title="Short respite breaks for carers",
            kind="fund",
            cost=80000,
            description="Funded overnight breaks so unpaid carers can rest.",
            affected_groups=["carer"],
        ),
        p(
            id="cycle-path",
            title="Riverside cycle path",
            kind="fund",
            cost=150000,
            description="A lit, surfaced path from the station to the north estate.",
            affected_groups=["north"],
        ),
        p(
            id="shopfront-grants",
            title="Shopfront improvement grants",
            kind="fund",
            cost=40000,
            description="Matched grants of up to £2,000 for high-street shops.",
            affected_groups=["business"],
        ),
    ]
    return MeetingFile(
        title="Riverside community budget",
        rule=RuleFile(ratio=2, group_min=5),
        segments=segments,
        proposals=proposals,
    )
