"""The Help menu: a searchable keyboard-shortcuts sheet built from the window's own actions,
*About GAN Studio* (versions and the device in use), the bundled models' licences and cards, and
the README's tour. Everything shown is read from this installation; nothing is downloaded.

``install(window)`` adds the menu as the last one in the menu bar; the dialogs also work on their
own (tests build them directly).
"""

from __future__ import annotations

import json
import platform
import re
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListWidget, QListWidgetItem,
    QMainWindow, QMenu, QPushButton, QSplitter, QTextBrowser, QToolBar, QTreeWidget, QTreeWidgetItem,
    QVBoxLayout, QWidget,
)

TITLE = "GAN Studio"
TOUR_HEADING = "## A short tour"


def plain_text(text: str) -> str:
    """A menu text without its mnemonic ampersands (``Save &As…`` -> ``Save As…``; ``&&`` -> ``&``)."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


# Qt.Key values from here up are multimedia, browser and launcher keys (Key_Back = 0x01000061):
# the platform adds them to standard shortcuts (Save, Undo, Zoom In keys) but few keyboards have them.
_FIRST_MEDIA_KEY = 0x01000060


def _on_a_keyboard(seq: QKeySequence) -> bool:
    return not seq.isEmpty() and all(seq[i].key().value < _FIRST_MEDIA_KEY for i in range(seq.count()))


def shortcut_text(action: QAction) -> str:
    """Every shortcut of ``action`` as the platform writes it (``Ctrl+Shift+Z, Ctrl+Y``), leaving out
    the dedicated media keys (a keyboard's "Save" key) that standard shortcuts also list."""
    return ", ".join(seq.toString(QKeySequence.SequenceFormat.NativeText) for seq in action.shortcuts()
                     if _on_a_keyboard(seq))


def _menu_actions(menu: QMenu, group: str):
    for act in menu.actions():
        if act.isSeparator():
            continue
        if act.menu() is not None:  # a submenu (Open Recent): its entries are files, not commands
            continue
        if act.text():
            yield group, act


def action_rows(window: QMainWindow) -> list[tuple[str, str, str]]:
    """(group, action, shortcut) for every command of ``window``: the menus in menu-bar order, then
    the toolbars' actions (the tools), then any other window action that has a shortcut."""
    rows: list[tuple[str, str, str]] = []
    seen: set[int] = set()

    def add(group: str, act: QAction) -> None:
        if id(act) in seen:
            return
        seen.add(id(act))
        rows.append((group, plain_text(act.text()), shortcut_text(act)))

    for top in window.menuBar().actions():
        if top.menu() is not None:
            for group, act in _menu_actions(top.menu(), plain_text(top.text())):
                add(group, act)
    for bar in window.findChildren(QToolBar):
        for act in bar.actions():
            if not act.isSeparator() and act.text() and act.menu() is None:
                add(plain_text(bar.windowTitle()) or "Toolbar", act)
    for act in window.findChildren(QAction):
        if act.text() and not act.shortcut().isEmpty():
            add("Other", act)
    return rows


class ShortcutsDialog(QDialog):
    """Help ▸ Keyboard shortcuts: the window's commands grouped by menu; the search box filters by
    name, shortcut or menu."""

    def __init__(self, window: QMainWindow, parent: QWidget | None = None):
        super().__init__(parent or window)
        self.setObjectName("ShortcutsDialog")
        self.setWindowTitle(f"Keyboard shortcuts — {TITLE}")
        self.resize(560, 640)
        self.search = QLineEdit(self)
        self.search.setObjectName("shortcut_search")
        self.search.setPlaceholderText("Search commands or keys (e.g. mask, Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Filter by command name, shortcut or menu")
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("shortcut_tree")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Command", "Shortcut"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(False)
        self.rows = action_rows(window)
        groups: dict[str, QTreeWidgetItem] = {}
        for group, name, keys in self.rows:
            parent_item = groups.get(group)
            if parent_item is None:
                parent_item = groups[group] = QTreeWidgetItem(self.tree, [group, ""])
                font = parent_item.font(0)
                font.setBold(True)
                parent_item.setFont(0, font)
                parent_item.setFirstColumnSpanned(True)
                parent_item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            item = QTreeWidgetItem(parent_item, [name, keys])
            item.setData(0, Qt.ItemDataRole.UserRole, f"{group} {name} {keys}".lower())
        self.tree.expandAll()
        self.count = QLabel(self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count, 1)
        bottom.addWidget(buttons)
        layout.addLayout(bottom)
        self.search.textChanged.connect(self.filter)
        self.filter("")

    def filter(self, text: str) -> int:
        """Show the commands whose name, shortcut or menu contains every word of ``text``; returns
        how many are shown."""
        words = text.lower().split()
        shown = 0
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            visible = 0
            for j in range(group.childCount()):
                child = group.child(j)
                haystack = child.data(0, Qt.ItemDataRole.UserRole)
                match = all(w in haystack for w in words)
                child.setHidden(not match)
                visible += match
            group.setHidden(visible == 0)
            shown += visible
        with_keys = sum(1 for _, _, keys in self.rows if keys)
        self.count.setText(f"{shown} of {len(self.rows)} commands shown ({with_keys} have a shortcut)")
        return shown

    def visible_commands(self) -> list[tuple[str, str]]:
        out = []
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            for j in range(group.childCount()):
                child = group.child(j)
                if not child.isHidden():
                    out.append((child.text(0), child.text(1)))
        return out


# ---------------------------------------------------------------------------------------- About
def device_line(choice: str) -> str:
    """``Auto → cpu``, ``cuda:0``, or the choice and why it cannot be used."""
    from engines.core.device import AUTO, resolve_device
    from engines.core.protocol import EngineError

    try:
        device = resolve_device(choice)
    except EngineError as exc:
        return f"{choice} — {exc}"
    return f"Auto → {device}" if choice == AUTO else device


def versions(device_choice: str = "auto") -> list[tuple[str, str]]:
    """(name, version) for About and bug reports: the app, Python, Qt, PySide6, torch (and its CUDA),
    numpy, OpenCV (with contrib or not), Pillow, the platform and the device in use."""
    import cv2
    import numpy
    import PySide6
    from PySide6.QtCore import qVersion

    import engines

    rows = [("GAN Studio", engines.__version__),
            ("Python", platform.python_version()),
            ("Qt", qVersion()),
            ("PySide6", PySide6.__version__)]
    try:
        import torch

        cuda = getattr(torch.version, "cuda", None)
        rows.append(("torch", torch.__version__ + (f" (CUDA {cuda})" if cuda else " (CPU build)")))
    except ImportError:
        rows.append(("torch", "not installed"))
    rows.append(("numpy", numpy.__version__))
    rows.append(("OpenCV", cv2.__version__ + (" with contrib" if hasattr(cv2, "xphoto") else "")))
    try:
        import PIL

        rows.append(("Pillow", PIL.__version__))
    except ImportError:  # pragma: no cover - a dependency
        pass
    rows.append(("Platform", f"{platform.system()} {platform.release()} ({platform.machine()})"))
    rows.append(("Device", device_line(device_choice)))
    return rows


class AboutDialog(QDialog):
    def __init__(self, device_choice: str = "auto", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("AboutDialog")
        self.setWindowTitle(f"About {TITLE}")
        self.rows = versions(device_choice)
        table = "".join(f"<tr><td style='padding-right:16px'><b>{name}</b></td><td>{value}</td></tr>"
                        for name, value in self.rows)
        self.text = QLabel(
            f"<h2>{TITLE} {self.rows[0][1]}</h2>"
            "<p>A photo editor with generative engines: upscale, fill, colorize, synthesize and latent "
            "edits, on your own computer.</p>"
            f"<table>{table}</table>"
            "<p>Code: MIT licence. Bundled models: <i>Help ▸ Model licences</i>.</p>", self)
        self.text.setObjectName("about_text")
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setWordWrap(True)
        copy = QPushButton("Copy versions", self)
        copy.setToolTip("Copy these versions to the clipboard (for a bug report)")
        copy.clicked.connect(self.copy_versions)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)

    def version_text(self) -> str:
        return "\n".join(f"{name}: {value}" for name, value in self.rows)

    def copy_versions(self) -> None:
        QGuiApplication.clipboard().setText(self.version_text())


# ------------------------------------------------------------------------------------- licences
def model_licences() -> list[dict]:
    """The bundled models (each weights card: id, title, task, licence, its .md card's text) and
    the installable ones from the catalog (id, title, task, licence, source)."""
    from engines.paths import BUNDLED_WEIGHTS, RESOURCES

    out: list[dict] = []
    for card in sorted(Path(BUNDLED_WEIGHTS).glob("*.json")):
        try:
            data = json.loads(card.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict) or "license" not in data:
            continue
        md = card.with_suffix(".md")
        out.append({"id": data.get("id", card.stem), "title": data.get("title", card.stem),
                    "task": data.get("task", ""), "license": data["license"], "kind": "bundled",
                    "card": md.read_text(encoding="utf-8") if md.is_file() else ""})
    try:
        catalog = json.loads((Path(RESOURCES) / "models.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        catalog = {}
    for entry in catalog.get("models", []) if isinstance(catalog, dict) else []:
        out.append({"id": entry.get("id", "?"), "title": entry.get("title", ""), "task": entry.get("task", ""),
                    "license": entry.get("license", "unknown"), "kind": "installable",
                    "card": "\n\n".join(f"**{k.capitalize()}:** {entry[k]}" for k in
                                        ("license", "source", "description", "inputs") if entry.get(k))})
    return out


def short_licence(text: str) -> str:
    """A list-sized licence: ``MIT``, ``BSD-3-Clause``, ``CC BY-NC-SA 4.0``, or for our weights
    trained on research-use data, ``GAN Studio weights, research-use data``."""
    if "research" in text.lower() and not text.startswith(("MIT", "BSD", "Apache", "CC")):
        return "GAN Studio weights, research-use data"
    return text.split(";")[0].split(" (")[0].strip() or "unknown"


class LicencesDialog(QDialog):
    """Help ▸ Model licences: LICENSES.md, then each bundled model's card, then the catalog's
    installable models; pick one on the left to read it on the right."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        from engines.paths import RESOURCES

        self.setObjectName("LicencesDialog")
        self.setWindowTitle(f"Model licences — {TITLE}")
        self.resize(900, 620)
        self.list = QListWidget(self)
        self.list.setObjectName("licence_list")
        self.view = QTextBrowser(self)
        self.view.setObjectName("licence_text")
        self.view.setOpenExternalLinks(False)
        self.view.setSearchPaths([str(RESOURCES), str(Path(RESOURCES) / "weights")])
        self.entries: list[tuple[str, str]] = []  # (list text, markdown) of the selectable rows
        licences = Path(RESOURCES) / "LICENSES.md"
        if licences.is_file():
            self._add("All licences (LICENSES.md)", licences.read_text(encoding="utf-8"))
        self.models = model_licences()
        for kind, heading in (("bundled", "Bundled with GAN Studio"),
                              ("installable", "Installable (Engines ▸ Models…)")):
            self._heading(heading)
            for m in (m for m in self.models if m["kind"] == kind):
                text = m["card"] or f"# {m['title']}\n\n**Licence:** {m['license']}"
                if kind == "installable":
                    text = f"# {m['title']}\n\nNot bundled: installable from *Engines ▸ Models…*.\n\n{text}"
                self._add(f"{m['id']} — {short_licence(m['license'])}", text, tip=f"{m['title']}\n{m['license']}")
        splitter = QSplitter(self)
        splitter.addWidget(self.list)
        splitter.addWidget(self.view)
        splitter.setSizes([330, 570])
        note = QLabel("Each bundled model's card: its data, training command and measured figures.", self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(splitter, 1)
        layout.addWidget(buttons)
        self.list.currentRowChanged.connect(self._show)
        if self.entries:
            self.list.setCurrentRow(0)

    def _heading(self, text: str) -> None:
        item = QListWidgetItem(text, self.list)
        font = item.font()
        font.setBold(True)
        item.setFont(font)
        item.setFlags(Qt.ItemFlag.NoItemFlags)

    def _add(self, label: str, markdown: str, tip: str = "") -> None:
        item = QListWidgetItem(label, self.list)
        item.setData(Qt.ItemDataRole.UserRole, markdown)
        if tip:
            item.setToolTip(tip)
        self.entries.append((label, markdown))

    def _show(self, row: int) -> None:
        item = self.list.item(row)
        markdown = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if markdown:
            self.view.setMarkdown(markdown)


# ----------------------------------------------------------------------------------------- tour
def find_readme() -> Path | None:
    """The README beside the source tree (an editable install or a checkout), else None."""
    candidate = Path(__file__).resolve().parents[2] / "README.md"
    return candidate if candidate.is_file() else None


def readme_text() -> str:
    """The README as markdown: the file, else the installed package's long description, else ''."""
    path = find_readme()
    if path is not None:
        return path.read_text(encoding="utf-8")
    try:
        from importlib.metadata import PackageNotFoundError, metadata

        return metadata("ganstudio").get_payload() or ""  # the wheel's README (pyproject readme=)
    except (PackageNotFoundError, ImportError, AttributeError):
        return ""


def tour_section(markdown: str) -> str:
    """The README's "A short tour" section (its heading up to the next ``## `` heading)."""
    start = markdown.find(TOUR_HEADING)
    if start < 0:
        return markdown
    rest = markdown[start + len(TOUR_HEADING):]
    end = re.search(r"^## ", rest, flags=re.MULTILINE)
    return TOUR_HEADING + (rest[: end.start()] if end else rest)


class TourDialog(QDialog):
    """Help ▸ Tour: the README's tour shown in the app (local file only); a button opens the
    whole README in the system's viewer."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("TourDialog")
        self.setWindowTitle(f"Tour — {TITLE}")
        self.resize(820, 680)
        self.view = QTextBrowser(self)
        self.view.setObjectName("tour_text")
        self.view.setOpenExternalLinks(False)  # nothing from the network
        self.readme = find_readme()
        text = readme_text()
        if self.readme is not None:
            self.view.setSearchPaths([str(self.readme.parent)])
        self.view.setMarkdown(tour_section(text) if text else
                              "The README is not part of this installation.")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        if self.readme is not None:
            whole = QPushButton("Open the whole README", self)
            whole.setToolTip(str(self.readme))
            whole.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.readme))))
            buttons.addButton(whole, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)


# ----------------------------------------------------------------------------------------- menu
def _device_choice(window) -> str:
    return getattr(getattr(window, "runner", None), "device", "auto")


def _show(window, attr: str, make) -> QDialog:
    """One non-modal dialog per kind, built on first use and raised afterwards."""
    dialog = getattr(window, attr, None)
    if dialog is None:
        dialog = make()
        setattr(window, attr, dialog)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog


def show_shortcuts(window) -> QDialog:
    # rebuilt each time: the action table may have grown (recent files, models) since the last time
    old = getattr(window, "shortcuts_dialog", None)
    if old is not None:
        old.deleteLater()
        window.shortcuts_dialog = None
    return _show(window, "shortcuts_dialog", lambda: ShortcutsDialog(window))


def show_about(window) -> QDialog:
    old = getattr(window, "about_dialog", None)
    if old is not None:  # the device may have changed in Preferences
        old.deleteLater()
        window.about_dialog = None
    return _show(window, "about_dialog", lambda: AboutDialog(_device_choice(window), window))


def show_licences(window) -> QDialog:
    return _show(window, "licences_dialog", lambda: LicencesDialog(window))


def show_tour(window) -> QDialog:
    return _show(window, "tour_dialog", lambda: TourDialog(window))


def install(window: QMainWindow) -> QMenu:
    """Add the Help menu as the menu bar's last menu; returns it."""
    menu = window.menuBar().addMenu("&Help")
    menu.setObjectName("help_menu")
    entries = [
        ("help_shortcuts", "&Keyboard shortcuts", show_shortcuts, "Ctrl+/",
         "Every command and its shortcut, searchable"),
        ("help_tour", "&Tour / README", show_tour, QKeySequence.StandardKey.HelpContents,
         "The README's short tour of the editor (from this installation)"),
        ("help_licences", "Model &licences", show_licences, None,
         "Licences and cards of the bundled models and the installable ones"),
        ("help_about", "&About GAN Studio", show_about, None, "Versions and the device in use"),
    ]
    for i, (name, text, handler, keys, tip) in enumerate(entries):
        if i == 3:
            menu.addSeparator()
        act = QAction(text, window)
        act.setObjectName(f"action_{name}")
        if isinstance(keys, QKeySequence.StandardKey):
            act.setShortcuts(keys)
        elif keys:
            act.setShortcut(QKeySequence(keys))
        act.setStatusTip(tip)
        act.setToolTip(tip)
        act.setMenuRole(QAction.MenuRole.AboutRole if name == "help_about" else QAction.MenuRole.NoRole)
        act.triggered.connect(lambda checked=False, h=handler: h(window))
        menu.addAction(act)
        window.addAction(act)
        if hasattr(window, "actions_by_id"):
            window.actions_by_id[name] = act
    return menu


__all__ = [
    "AboutDialog", "LicencesDialog", "ShortcutsDialog", "TourDialog", "action_rows", "device_line",
    "find_readme", "install", "model_licences", "plain_text", "readme_text", "short_licence", "shortcut_text",
    "show_about", "show_licences", "show_shortcuts", "show_tour", "tour_section", "versions",
]
