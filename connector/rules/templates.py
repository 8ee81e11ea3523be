"""Email Assist: drafts rendered from admin-edited Jinja2 templates in a sandbox.

Values from the CRM or Zendesk are data passed in, never template code: the sandboxed
environment refuses attribute tricks, and ``StrictUndefined`` turns an unknown token into an
error. ``check`` validates every template against the tokens its rule provides, naming the file
and line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from connector.errors import ConfigError

# The tokens each template is given: name -> attributes. ``check`` tests templates against it.
TOKENS: dict[str, dict[str, tuple[str, ...]]] = {
    "usage_drop": {
        "account": ("name", "renewal_date"),
        "csm": ("name",),
        "usage": ("last_week", "active_users", "mean_before"),
    },
    "nps_detractor": {
        "account": ("name", "renewal_date"),
        "contact": ("first_name", "name"),
        "csm": ("name",),
        "answer": ("score", "date", "comment"),
    },
    "exec_checkin": {
        "account": ("name", "renewal_date"),
        "contact": ("first_name", "name"),
        "csm": ("name",),
    },
    "ebr_schedule": {"account": ("name", "renewal_date"), "csm": ("name",)},
    "renewal_upcoming": {"account": ("name", "renewal_date"), "csm": ("name",)},
}


@dataclass(frozen=True)
class Token:
    """An attribute bag for a template (``account.name``); only the listed names exist."""

    values: Mapping[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


class Templates:
    """Loads ``mappings/templates/<name>.j2`` and renders drafts."""

    def __init__(self, folder: Path, origin: str = "mappings/templates") -> None:
        self.folder, self.origin = folder, origin
        self.env = SandboxedEnvironment(
            loader=FileSystemLoader(str(folder)),
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
        )

    def render(self, name: str, **tokens: Mapping[str, Any] | None) -> str:
        """The draft; a missing template or token is a ConfigError naming the file."""
        file = f"{self.origin}/{name}.j2"
        try:
            template = self.env.get_template(f"{name}.j2")
            bags = {k: Token(v or {}) for k, v in tokens.items()}
            return template.render(**bags).strip()
        except TemplateSyntaxError as exc:
            raise ConfigError(file, f"line {exc.lineno}", exc.message or "syntax error") from None
        except (TemplateError, AttributeError) as exc:
            raise ConfigError(file, "", str(exc)) from None
        except UnicodeDecodeError:
            raise ConfigError(file, "", "not UTF-8 text") from None
        except RecursionError:
            raise ConfigError(file, "", "includes or extends itself without end") from None
        except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
            # The template's own expression failed ({{ 1/0 }}, a range over the sandbox's cap).
            raise ConfigError(file, "", f"{type(exc).__name__}: {exc}") from None

    def check(self) -> list[ConfigError]:
        """Render every known template with placeholder values; every problem, file and line."""
        problems: list[ConfigError] = []
        for name, tokens in TOKENS.items():
            file = f"{self.origin}/{name}.j2"
            if not (self.folder / f"{name}.j2").is_file():
                problems.append(ConfigError(file, "", "template missing"))
                continue
            sample = {
                bag: {attr: f"<{bag}.{attr}>" for attr in attrs} for bag, attrs in tokens.items()
            }
            try:
                self.render(name, **sample)
            except ConfigError as exc:
                problems.append(_with_line(exc, self.folder / f"{name}.j2"))
        return problems


def _with_line(exc: ConfigError, path: Path) -> ConfigError:
    """Point an unknown-token error at the template line that uses it."""
    if exc.key:
        return exc
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    quoted = exc.reason.split("'")[1::2]  # 'x' has no attribute 'nmae': try nmae, then x
    for token in reversed(quoted):
        for number, line in enumerate(lines, 1):
            if token and token in line:
                return ConfigError(exc.file, f"line {number}", exc.reason)
    return exc
