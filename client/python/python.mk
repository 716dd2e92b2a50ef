# python-can-cand, python-can's interface "cand" (client/python/), included
# by the Makefile:
#
#   make            BUILD/python: the can_cand package and its .dist-info,
#                   so PYTHONPATH=BUILD/python makes can.Bus(interface="cand")
#                   work from the build tree
#   make install    the same into $(DESTDIR)$(PYTHONDIR)
#
# python-can finds interfaces through the "can.interface" entry point group,
# which importlib.metadata reads from the .dist-info next to the package.
# can_cand/_paths.py records where libcand.so is, for either tree.

PYTHON ?= /usr/bin/python3
PY_MINOR := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
# Debian's python3 reads /usr/lib/python3/dist-packages, but for /usr/local
# (and any other prefix) only lib/python3.N/dist-packages.
PYTHONDIR ?= $(if $(filter /usr,$(PREFIX)),$(PREFIX)/lib/python3/dist-packages,$(PREFIX)/lib/python$(or $(PY_MINOR),3)/dist-packages)

PY_SRC := $(wildcard client/python/can_cand/*.py)
PY_VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' client/python/can_cand/__init__.py)
PY_DIST := python_can_cand-$(PY_VERSION).dist-info
PY_BUILD := $(BUILD)/python
PY_DIST_FILES := METADATA entry_points.txt top_level.txt

.PHONY: python install-python uninstall-python

python: $(PY_SRC:client/python/%=$(PY_BUILD)/%) $(PY_BUILD)/can_cand/_paths.py \
	$(PY_DIST_FILES:%=$(PY_BUILD)/$(PY_DIST)/%)

$(PY_BUILD)/can_cand/%.py: client/python/can_cand/%.py
	@mkdir -p $(dir $@)
	cp $< $@

# The build tree's library, by absolute path: tests run from anywhere.
$(PY_BUILD)/can_cand/_paths.py: client/python/python.mk
	@mkdir -p $(dir $@)
	printf '# Written by make: where libcand is.\nLIBRARY = "%s"\n' "$(abspath $(BUILD))/libcand.so" >$@

$(PY_BUILD)/$(PY_DIST)/METADATA: client/python/can_cand/__init__.py client/python/python.mk
	@mkdir -p $(dir $@)
	printf '%s\n' 'Metadata-Version: 2.1' 'Name: python-can-cand' 'Version: $(PY_VERSION)' \
		'Summary: python-can interface "cand": CAN buses shared through the cand daemon' \
		'Requires-Python: >=3.8' 'Requires-Dist: python-can>=4.1' >$@

$(PY_BUILD)/$(PY_DIST)/entry_points.txt: client/python/python.mk
	@mkdir -p $(dir $@)
	printf '%s\n' '[can.interface]' 'cand = can_cand:CandBus' >$@

$(PY_BUILD)/$(PY_DIST)/top_level.txt: client/python/python.mk
	@mkdir -p $(dir $@)
	echo can_cand >$@

install-python: python
	install -d $(DESTDIR)$(PYTHONDIR)/can_cand $(DESTDIR)$(PYTHONDIR)/$(PY_DIST)
	install -m 644 $(PY_SRC) $(DESTDIR)$(PYTHONDIR)/can_cand/
	printf '# Written by make install: where libcand is.\nLIBRARY = "%s"\n' \
		"$(LIBDIR)/libcand.so.$(SOVERSION)" >$(DESTDIR)$(PYTHONDIR)/can_cand/_paths.py
	chmod 644 $(DESTDIR)$(PYTHONDIR)/can_cand/_paths.py
	install -m 644 $(PY_DIST_FILES:%=$(PY_BUILD)/$(PY_DIST)/%) $(DESTDIR)$(PYTHONDIR)/$(PY_DIST)/

# Byte code Python wrote there since goes too.
uninstall-python:
	rm -rf $(DESTDIR)$(PYTHONDIR)/can_cand $(DESTDIR)$(PYTHONDIR)/$(PY_DIST)
