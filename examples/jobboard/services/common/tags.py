"""The AI worker's "model": keyword rules that turn a job's text into tags."""

from __future__ import annotations

import re

# tag -> words or phrases that earn it (matched as whole words, case-insensitively)
RULES: dict[str, tuple[str, ...]] = {
    "python": ("python", "django", "fastapi", "flask", "pandas"),
    "javascript": ("javascript", "typescript", "node.js", "nodejs", "react", "vue"),
    "go": ("golang", "go"),
    "rust": ("rust",),
    "java": ("java", "kotlin", "spring"),
    "dotnet": (".net", "c#", "asp.net"),
    "frontend": ("frontend", "front-end", "react", "vue", "css", "ui"),
    "backend": ("backend", "back-end", "api", "apis", "microservices"),
    "data": ("sql", "postgres", "postgresql", "etl", "analytics", "spark", "warehouse"),
    "ml": ("machine learning", "ml", "llm", "pytorch", "ai", "nlp"),
    "devops": ("devops", "kubernetes", "docker", "terraform", "ci/cd", "sre", "ansible"),
    "security": ("security", "appsec", "pentest", "soc"),
    "remote": ("remote", "anywhere"),
    "senior": ("senior", "staff", "principal", "lead"),
    "junior": ("junior", "intern", "graduate", "entry-level"),
}

_PATTERNS = {
    tag: re.compile(
        "|".join(rf"(?<![\w.#/-]){re.escape(word)}(?![\w#/-]|\.\w)" for word in words),
        re.IGNORECASE,
    )
    for tag, words in RULES.items()
}


def tags_for(title: str, description: str) -> list[str]:
    """The sorted tags whose keywords appear in the title or the description."""
    text = f"{title}\n{description}"
    return sorted(tag for tag, pattern in _PATTERNS.items() if pattern.search(text))
