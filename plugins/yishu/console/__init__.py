"""The web console (控制台) of stewards, administrators and operators: server-rendered pages
under /console/ in the operator API's app (see app.py)."""
