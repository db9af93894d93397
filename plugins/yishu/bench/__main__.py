"""`python -m yishu.bench`: see yishu/bench/run.py."""

from yishu.bench.run import main

main()
