# What a new user runs first (after scripts/install-deps.sh):
#   make demo     build, then train a small VAE on Fashion-MNIST, attack it, defend it with HMC
#                 and certify it (a few minutes); prints a table and the path of a picture
#   make test     the test suite (scripts/test.sh)
#   make check    every reproduction pipeline at a tiny size (make -C pipelines check)
# The reproductions themselves: make -C pipelines (see pipelines/Makefile, REPRODUCTION.md).
.PHONY: build demo test check
build:
	swift build -c release
demo: build
	pipelines/demo.sh results/demo
test:
	scripts/test.sh
check: build
	$(MAKE) -C pipelines check
