"""How often the automation looks at the catalog and the run queue (env, read once per process)."""

import os

import dagster as dg

DEFAULT_INTERVAL_S = 10


def sensor_interval_seconds() -> int:
    """`CAPTIONACC_SENSOR_INTERVAL_S` (default 10): seconds between ticks of each sensor."""
    return max(1, int(os.environ.get("CAPTIONACC_SENSOR_INTERVAL_S", DEFAULT_INTERVAL_S)))


def default_status() -> dg.DefaultSensorStatus:
    """Sensors run as soon as `dagster dev` starts, unless `CAPTIONACC_AUTOMATION=off`."""
    off = os.environ.get("CAPTIONACC_AUTOMATION", "on").lower() in ("off", "0", "false")
    return dg.DefaultSensorStatus.STOPPED if off else dg.DefaultSensorStatus.RUNNING
