"""`python -m yishu.bench`: see yishu/bench/run.py."""

from yishu.bench.run import main

if __name__ == "__main__":  # importing this module (e.g. a module scan) must not run a benchmark
    main()
