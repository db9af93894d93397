"""The import graph of plugins/yishu, from scripts/import_cycles.py, for tests that check which
package may import which."""

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("import_cycles",
                                               REPO / "scripts" / "import_cycles.py")
checker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(checker)


def imports_of(module: str) -> set[str]:
    """The yishu modules `module` imports, at the top or inside functions."""
    return checker.import_graph(checker.modules())[module]
