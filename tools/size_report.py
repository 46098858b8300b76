"""Modules over N lines and functions over M lines in app/ (issue 11's size rules): `python tools/size_report.py`."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(max_module: int = 400, max_function: int = 60) -> int:
    long_modules, long_functions = [], []
    for path in sorted((ROOT / "app").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT)
        lines = text.count("\n")
        if lines > max_module:
            long_modules.append(f"{lines:5d}  {rel}")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > max_function:
                    long_functions.append(f"{n:5d}  {rel}:{node.lineno} {node.name}")
    print(f"modules over {max_module} lines: {len(long_modules)}")
    print("\n".join(long_modules))
    print(f"functions over {max_function} lines: {len(long_functions)}")
    print("\n".join(sorted(long_functions, reverse=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:3])))
