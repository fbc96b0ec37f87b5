"""One package per task, all of the same shape: ``panel.py`` (its section of the Engines dock) and
``adapter.py`` (document -> request, result -> undo commands; listed in app.engine_controller.ADAPTERS)."""
