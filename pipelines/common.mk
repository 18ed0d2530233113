# Included by each paper's Makefile after it sets NAMES (its pipeline scripts, NAME.sh).
#   make -C pipelines/A            every pipeline of the paper, quick settings, into results/A/NAME/
#   make -C pipelines/A fig4       one of them
#   make -C pipelines/A FULL=1     the paper's own settings
#   make -C pipelines/A check      each at a tiny size (CHECK=1) into pipelines/out/check/A/NAME/
# Independent pipelines run in parallel under make -j2.
ROOT     := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
PAPER    := $(notdir $(CURDIR))
RESULTS  ?= $(ROOT)/results/$(PAPER)
CHECKDIR ?= $(ROOT)/pipelines/out/check/$(PAPER)
export FULL

.PHONY: all check $(NAMES) $(addprefix check-,$(NAMES))
all: $(NAMES)
$(NAMES):
	./$@.sh $(RESULTS)/$@
check: $(addprefix check-,$(NAMES))
$(addprefix check-,$(NAMES)): check-%:
	rm -rf $(CHECKDIR)/$*
	CHECK=1 ./$*.sh $(CHECKDIR)/$*
