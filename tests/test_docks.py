"""Docks: two-way binding with ToolState, the HSV picker, swatches, recent colours, label classes."""

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

from app.docks.labels import LabelsDock
from app.docks.palette import DEFAULT_SWATCHES, PaletteDock
from app.widgets.slider_spin import log_scale
from app.docks.tool_options import ToolOptionsDock
from app.settings import LABELS_PALETTE, PALETTE_SWATCHES, settings_for_tests
from app.tools.toolstate import ToolState


@pytest.fixture
def settings(tmp_path, monkeypatch):
    return settings_for_tests(tmp_path, monkeypatch)


@pytest.fixture
def state():
    return ToolState()


def shown(qtbot, dock, w=260, h=420):
    qtbot.addWidget(dock)
    dock.resize(w, h)
    dock.show()
    qtbot.waitExposed(dock)
    return dock


# ---------------------------------------------------------------------------- tool options
def test_log_scale_round_trips_every_size():
    to_pos, to_value = log_scale(1, 1000)
    assert to_value(0) == 1 and to_value(1000) == 1000
    # 1000 slider steps over three decades: exact up to ~160 px, within half a step (0.35 %,
    # plus rounding) above; the spin box takes any exact value.
    assert all(to_value(to_pos(v)) == v for v in range(1, 161))
    assert all(abs(to_value(to_pos(v)) - v) <= 0.0035 * v + 1 for v in range(161, 1001))


def test_tool_options_two_way(qtbot, state):
    dock = shown(qtbot, ToolOptionsDock(state), h=160)
    sizes = []
    state.size_changed.connect(sizes.append)

    dock.size.slider.setValue(500)  # the middle of a log scale: ~32 px
    assert state.size == dock.size.spin.value() == round(1000 ** 0.5)
    assert sizes == [state.size]  # one signal, no echo back from the widgets

    state.set_size(300)
    assert dock.size.spin.value() == 300
    assert sizes[-1] == 300 and len(sizes) == 2

    dock.hardness.spin.setValue(25)
    assert state.hardness == pytest.approx(0.25)
    state.set_opacity(0.4)
    assert dock.opacity.spin.value() == 40 and dock.opacity.slider.value() == 40

    state.set_tool("label_brush")
    assert dock.tool_label.text() == "Label brush"


# ---------------------------------------------------------------------------- palette
def test_hsv_picker_click_sets_colour(qtbot, state):
    dock = shown(qtbot, PaletteDock(state))
    picker = dock.picker
    hue = picker.hue_rect()
    # Hue strip at 1/3 of its height = green; then the square's top-right corner = full S and V.
    green = QPoint(int(hue.center().x()), int(hue.top() + hue.height() / 3))
    qtbot.mouseClick(picker, Qt.MouseButton.LeftButton, pos=green)
    sv = picker.sv_rect()
    qtbot.mouseClick(picker, Qt.MouseButton.LeftButton, pos=QPoint(int(sv.right()) - 1, int(sv.top()) + 1))
    h, s, v, _ = state.color.getHsvF()
    assert h == pytest.approx(1 / 3, abs=0.02)
    assert s > 0.95 and v > 0.95
    assert dock.hex.text() == state.color.name()


def test_hex_entry(qtbot, state):
    dock = shown(qtbot, PaletteDock(state))
    dock.hex.setText("#3c78d8")
    dock.hex.editingFinished.emit()
    assert state.color == QColor("#3c78d8")
    dock.hex.setText("#12")  # incomplete: the entry shows the current colour again
    dock.hex.editingFinished.emit()
    assert state.color == QColor("#3c78d8") and dock.hex.text() == "#3c78d8"


def test_swatches_click_add_remove_persist(qtbot, state, settings):
    dock = shown(qtbot, PaletteDock(state, settings))
    buttons = dock.swatches.buttons()
    assert len(buttons) == len(DEFAULT_SWATCHES) == 16
    qtbot.mouseClick(buttons[10], Qt.MouseButton.LeftButton)
    assert state.color == QColor(DEFAULT_SWATCHES[10])

    state.set_color(QColor("#123456"))
    qtbot.mouseClick(dock.swatches.add_button, Qt.MouseButton.LeftButton)
    assert settings.get(PALETTE_SWATCHES)[-1] == "#123456"
    dock.swatches.remove_at(0)  # what the right-click "Remove" action does
    assert settings.get(PALETTE_SWATCHES)[0] == DEFAULT_SWATCHES[1]

    again = shown(qtbot, PaletteDock(ToolState(), settings))
    assert [c.name() for c in again.swatches.colors()] == settings.get(PALETTE_SWATCHES)


def test_recent_colours_appear(qtbot, state):
    dock = shown(qtbot, PaletteDock(state))
    assert not dock.recent.isVisible()
    state.remember_color(QColor("#ff0000"))
    state.remember_color(QColor("#00ff00"))
    assert dock.recent.isVisible()
    assert [c.name() for c in dock.recent.colors()] == ["#00ff00", "#ff0000"]
    qtbot.mouseClick(dock.recent.buttons()[1], Qt.MouseButton.LeftButton)
    assert state.color == QColor("#ff0000")


def test_state_colour_updates_the_dock(qtbot, state):
    dock = shown(qtbot, PaletteDock(state))
    state.set_color(QColor("#0000ff"))
    assert dock.hex.text() == "#0000ff"
    assert dock.picker.color().name() == "#0000ff"


# ---------------------------------------------------------------------------- labels
def test_label_class_click_sets_label(qtbot, state, settings):
    dock = shown(qtbot, LabelsDock(state, settings))
    dock.set_palette("facades")
    assert dock.palette().name == "facades" and dock.header.text() == "Labels: CMP Facades"
    door = next(i for i in range(dock.list.count()) if dock.list.item(i).text() == "door")
    rect = dock.list.visualItemRect(dock.list.item(door))
    qtbot.mouseClick(dock.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert state.label == 3
    state.set_label(10)
    assert dock.list.currentItem().text() == "pillar"
    assert settings.get(LABELS_PALETTE) == "facades"


def test_palette_switch_signal_and_label_kept_valid(qtbot, state):
    dock = shown(qtbot, LabelsDock(state))
    dock.set_palette("facades")
    state.set_label(11)
    with qtbot.waitSignal(dock.palette_changed) as blocker:
        dock.combo.setCurrentIndex(dock.combo.findData("basic"))
    assert blocker.args[0].name == "basic"
    assert state.label in [c.id for c in dock.palette().classes]  # 11 does not exist in basic


def test_filter_narrows_the_list(qtbot, state):
    dock = shown(qtbot, LabelsDock(state))
    dock.set_palette("facades")
    assert len(dock.visible_class_ids()) == 12
    qtbot.keyClicks(dock.filter, "DEC")  # case-insensitive
    assert dock.visible_class_ids() == [8]  # "deco"
    dock.filter.setText("o")
    assert dock.visible_class_ids() == [0, 2, 3, 4, 6, 8, 9, 11]  # every name with an "o"
    dock.filter.setText("11")
    assert dock.visible_class_ids() == [11]  # exact id
    dock.filter.clear()
    assert len(dock.visible_class_ids()) == 12


def test_label_opacity_slider(qtbot, state):
    dock = shown(qtbot, LabelsDock(state))
    dock.opacity.slider.setValue(80)
    assert state.label_opacity == pytest.approx(0.8)
    state.set_label_opacity(0.1)
    assert dock.opacity.spin.value() == 10
