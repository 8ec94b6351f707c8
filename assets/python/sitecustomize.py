"""parlab: load the tracer in every Python process of a traced run (written by parlab to a private folder)."""

import parlab_trace

parlab_trace.install()
parlab_trace._chain_sitecustomize(__file__)
