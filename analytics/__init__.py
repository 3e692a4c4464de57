"""ESS Pratiques analytics: pure Polars functions (no database, no HTTP, no I/O).

Typical pipeline for one campaign (see docs/analytics.md):

    published = publish_practice_stats(responses, threshold=5, groups=groups)
    me = self_view(self_answers)
    cmp = compare(me, published.total)
    prio = priorities(cmp, published.by_group, groups)
    matrix = materiality(me, published.by_group, groups)

Anonymity thresholds are applied ONLY in :mod:`analytics.suppression`.
"""

from .compare import CATEGORY_LABELS, CompareConfig, compare
from .frames import (
    COMMENTS_SCHEMA,
    GROUP_COUNTS_SCHEMA,
    GROUPS_SCHEMA,
    PRACTICES_SCHEMA,
    RESPONSES_SCHEMA,
    SELF_ANSWERS_SCHEMA,
    SNAPSHOTS_SCHEMA,
    validate_comments,
    validate_group_counts,
    validate_groups,
    validate_practices,
    validate_responses,
    validate_self_answers,
    validate_snapshots,
)
from .priorities import PriorityConfig, materiality, priorities
from .stats import (
    describe,
    describe_practices_and_cells,
    group_counts,
    practice_group_stats,
    practice_stats,
    self_theme_view,
    self_view,
    t_critical,
    theme_stats,
)
from .suppression import (
    DEFAULT_THRESHOLD,
    MIN_THRESHOLD,
    PublishedStats,
    apply_threshold,
    apply_threshold_total,
    filter_comments,
    publish_practice_stats,
    should_refresh_snapshot,
    suppressed_groups,
    total_suppressed,
)
from .trends import theme_trend

__all__ = [
    "CATEGORY_LABELS",
    "COMMENTS_SCHEMA",
    "CompareConfig",
    "DEFAULT_THRESHOLD",
    "GROUPS_SCHEMA",
    "GROUP_COUNTS_SCHEMA",
    "MIN_THRESHOLD",
    "PRACTICES_SCHEMA",
    "PriorityConfig",
    "PublishedStats",
    "RESPONSES_SCHEMA",
    "SELF_ANSWERS_SCHEMA",
    "SNAPSHOTS_SCHEMA",
    "apply_threshold",
    "apply_threshold_total",
    "compare",
    "describe",
    "describe_practices_and_cells",
    "filter_comments",
    "group_counts",
    "materiality",
    "practice_group_stats",
    "practice_stats",
    "priorities",
    "publish_practice_stats",
    "self_theme_view",
    "self_view",
    "should_refresh_snapshot",
    "suppressed_groups",
    "t_critical",
    "theme_stats",
    "theme_trend",
    "total_suppressed",
    "validate_comments",
    "validate_group_counts",
    "validate_groups",
    "validate_practices",
    "validate_responses",
    "validate_self_answers",
    "validate_snapshots",
]
