"""The operator API: what licensed operators receive over HTTP (app.py), and what a licence
may receive (offer.py)."""
