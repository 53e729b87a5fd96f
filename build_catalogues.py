"""The build step that ships the message catalogues compiled: every
statsvc/locale/*/LC_MESSAGES/*.po becomes the .mo beside it in the wheel (statsvc.i18n loads
it). An editable install compiles nothing: the source tree's .po is compiled in memory when
first used, so what a developer edits is what runs. Declared in pyproject.toml
([tool.setuptools.cmdclass]); Babel is a build requirement."""

from __future__ import annotations

from pathlib import Path

from setuptools.command.build_py import build_py as _build_py

LOCALE = Path("statsvc") / "locale"


class build_py(_build_py):  # noqa: N801 (the command's own name)
    """build_py that also compiles the catalogues into the build."""

    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            for po, mo in self._catalogues():
                self._compile(po, Path(self.build_lib) / mo)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if self.editable_mode:
            return outputs
        return outputs + [str(Path(self.build_lib) / mo) for _po, mo in self._catalogues()]

    @staticmethod
    def _catalogues() -> list[tuple[Path, Path]]:
        return [(po, po.with_suffix(".mo")) for po in sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))]

    @staticmethod
    def _compile(po: Path, mo: Path) -> None:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parts[-3])
        errors = [(m.id, e) for m, e in catalog.check()]
        if errors:
            raise SystemExit(f"{po}: {errors}")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with mo.open("wb") as target:
            write_mo(target, catalog)
