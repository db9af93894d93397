"""`yishu airflow`: the real Airflow (UI, REST API, scheduler) on the project's state; `yishu
serve`: the operator API alone."""

from __future__ import annotations

import signal

import typer

from yishu.cli.common import catalog, console, fail, resources


def airflow(ctx: typer.Context,
            port: int = typer.Option(0, min=0, max=65535,
                                     help="port of the UI and REST API (default: a free one)"),
            executor: str = typer.Option("local", help="local (LocalExecutor) or celery "
                                         "(CeleryExecutor: PostgreSQL metadata, a broker)"),
            workers: int = typer.Option(2, min=0, max=64,
                                        help="celery: workers to start here (0: all elsewhere)"),
            timeout: float = typer.Option(180, min=10, help="seconds to wait for readiness")):
    """Start Airflow in the foreground (api-server, scheduler, dag-processor, triggerer;
    LocalExecutor, or CeleryExecutor with its workers) on YISHU_HOME's Airflow; Ctrl-C stops
    it."""
    from yishu.airflow import server
    from yishu.airflow.workers import CeleryNotConfigured

    if executor not in server.EXECUTORS:
        fail(f"--executor {executor}: choose one of {', '.join(server.EXECUTORS)}")
    catalog(ctx)  # a broken catalog is reported here, not as DAG import errors in the UI
    cfg = resources(ctx).settings
    try:
        srv = server.start(cfg, port or None, executor, workers if executor == "celery" else 0)
    except CeleryNotConfigured as exc:
        fail(str(exc))
    console.print(f"starting Airflow on {srv.url} (log: {srv.log})…", highlight=False)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill`, docker stop, systemd: as Ctrl-C
    try:
        srv.wait_ready(timeout)
        console.print(f"[bold green]Airflow is ready[/]: {srv.url}\n"
                      f"  login: {server.USER} / {srv.password()}\n"
                      f"  REST API: {srv.url}/api/v2 (token: POST {srv.url}/auth/token)\n"
                      + (f"  Celery workers: {', '.join(srv.workers)}\n" if srv.workers else "")
                      + "  DAGs start paused: unpause collect__<source> and publish__<product> "
                      "in the UI to let them run.\n  Ctrl-C stops Airflow.",
                      highlight=False, soft_wrap=True)
        stopped, code = srv.wait()
    except KeyboardInterrupt:
        srv.stop()
        console.print("Airflow stopped.")
        return
    except (RuntimeError, TimeoutError) as exc:
        srv.stop()
        fail(str(exc))
    srv.stop()
    fail(f"Airflow's {stopped} exited by itself (code {code}); see {srv.log}")


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def serve(ctx: typer.Context, host: str = typer.Option("127.0.0.1", help="address to listen on"),
          port: int = typer.Option(8765, min=1, max=65535, help="port to listen on")):
    """Serve the operator API and the web console alone (OpenAPI at /docs, the console at
    /console/); Ctrl-C stops it."""
    import uvicorn

    from yishu.api.app import create_app

    catalog(ctx)
    console.print(f"operator API on http://{host}:{port} (docs: /docs), web console on "
                  f"http://{host}:{port}/console/; Ctrl-C stops it", highlight=False)
    uvicorn.run(create_app(resources(ctx)), host=host, port=port, log_level="warning")
