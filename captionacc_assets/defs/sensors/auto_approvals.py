"""Auto-approval, per tenant: approve the proposed layout when its confidence is high enough.

`CAPTIONACC_AUTO_APPROVE` names the tenants and their thresholds, e.g. `acme=0.8,beta=0.6`
(`*=0.9` for every tenant); unset, nobody is auto-approved. The sensor reads each new
`layout_db` materialization's exact proposed zones (its `proposed_zones` entry, the zones
`read_proposed_zones` read from the layout.db it published) and, for a video with no approval
yet whose main zone's confidence clears the threshold, writes the same `requested` row
`captionacc approve` would from that layout.db: the same crop, and a second zone only when
its own confidence clears the threshold too. The `layout_approvals` sensor takes it from
there, and the lineage says it was the policy.
"""

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg

from captionacc_assets.core.errors import InputError
from captionacc_assets.core.proposed_zones import regions_to_approve, zones_from_json
from captionacc_assets.defs.assets.initial import PROPOSED_ZONES_ENTRY
from captionacc_assets.defs.sensors.settings import default_status, sensor_interval_seconds
from captionacc_assets.resources.catalog import CatalogResource

PAGE_SIZE = 200


def parse_policy(text: str | None) -> dict[str, float]:
    """`tenant=threshold,...` -> {tenant: threshold}; thresholds in [0, 1]."""
    policy = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        tenant, _, threshold = item.partition("=")
        try:
            value = float(threshold)
        except ValueError:
            raise InputError(f"CAPTIONACC_AUTO_APPROVE item {item!r} must be tenant=threshold, e.g. acme=0.8") from None
        if not 0 <= value <= 1:
            raise InputError(f"CAPTIONACC_AUTO_APPROVE threshold {value} for {tenant!r} must be in [0, 1]")
        policy[tenant.strip()] = value
    return policy


def threshold_for(policy: dict[str, float], tenant: str) -> float | None:
    return policy.get(tenant, policy.get("*"))


def auto_approval_tick(
    catalog: CatalogResource, instance: dg.DagsterInstance, cursor: str | None, policy: dict[str, float]
) -> tuple[list[dict], str | None]:
    """Approve what the policy allows among layout_db events after the cursor; (approvals, new cursor)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("layout_db"), after_storage_id=int(cursor) if cursor else None),
        limit=PAGE_SIZE,
        ascending=True,
    ).records
    if not records:
        return [], cursor
    events: list[tuple[str, Mapping[str, Any]]] = [
        (r.partition_key, r.asset_materialization.metadata)
        for r in records
        if r.partition_key and r.asset_materialization
    ]
    videos = catalog.get_videos([video_id for video_id, _ in events])
    approvals = []
    for video_id, metadata in events:
        video = videos.get(video_id)
        threshold = threshold_for(policy, video["tenant_id"]) if video else None
        if (
            video is None
            or threshold is None
            or video["deleted_at"] is not None
            or PROPOSED_ZONES_ENTRY not in metadata
        ):
            continue
        zones = zones_from_json(metadata[PROPOSED_ZONES_ENTRY].value)
        confidence = zones[0].confidence
        if confidence < threshold or catalog.latest_cropped_frames_version(video_id) is not None:
            continue
        approvals.append(
            catalog.request_cropped_frames_version(
                video_id,
                regions_to_approve(zones, threshold),
                requested_by=f"auto-approval (confidence {confidence:.2f} >= {threshold:.2f})",
            )
        )
    return approvals, str(records[-1].storage_id)


@dg.sensor(
    name="auto_approvals",
    minimum_interval_seconds=sensor_interval_seconds(),
    default_status=default_status(),
    description="Approves the proposed layout for tenants in CAPTIONACC_AUTO_APPROVE when its confidence is high enough",
)
def auto_approvals(context: dg.SensorEvaluationContext, catalog: CatalogResource) -> dg.SensorResult:
    policy = parse_policy(os.environ.get("CAPTIONACC_AUTO_APPROVE"))
    approvals, cursor = auto_approval_tick(catalog, context.instance, context.cursor, policy)
    for row in approvals:
        context.log.info(f"auto-approved version {row['version']} of {row['video_id']}: {row['requested_by']}")
    if approvals:  # the layout_approvals sensor requests their runs; this tick's own work is the approvals
        return dg.SensorResult(
            cursor=cursor,
            skip_reason=f"auto-approved {len(approvals)} layout(s): "
            f"{[row['video_id'] for row in approvals]}; layout_approvals runs them",
        )
    return dg.SensorResult(
        cursor=cursor,
        skip_reason="nothing to auto-approve"
        if policy
        else "nothing to auto-approve: CAPTIONACC_AUTO_APPROVE names no tenant",
    )
