"""View models: plain data for each panel, computed from a trace. No DOM."""
