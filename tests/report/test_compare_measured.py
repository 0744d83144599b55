"""compare: device latencies that are measurements are gated with the host tolerance."""


def test_measured_device_latency_uses_the_host_tolerance():
    """The host profile's latency is a measurement: gated like host timings, not like estimates."""
    from sercompress.report.compare import Tolerance, compare_summaries
    from sercompress.report.summary import Summary

    from .conftest import device

    def summary(ms: float) -> Summary:
        fit = device("host", (), ms, source="measured")
        return Summary.model_validate({
            "run": {"config_name": "t", "dataset": "synthetic"},
            "variants": [{"name": "v", "family": "reference", "artifact": {"path": "m.tflite", "format": "tflite",
                          "dtype": "float32"}, "sizes": {"file_bytes": 1, "gzip_bytes": 1,
                          "weight_bytes_by_dtype": {}}, "params": 1,
                          "nonzero_params": 1, "macs": 1, "fits": [fit.model_dump(mode="json")]}]})

    tol = Tolerance(latency_growth_pct=1.0, host_latency_growth_pct=100.0)
    result = compare_summaries(summary(15.0), summary(10.0), tol)
    row = next(d for d in result.diffs if d.metric == "latency_ms:host")
    assert row.status != "regression"
