"""Flygledartornet: per-unit and regional views of every open case and its checks, diagram heatmaps, /metrics."""
