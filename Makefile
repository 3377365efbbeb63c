# warren: `make run` opens the shell on the embedded simulator; `make test` runs every test.
PREFIX ?= /usr/local

.PHONY: run test build install deps bench clean

deps:
	@scripts/install-deps.sh

build: deps
	swift build -c release --static-swift-stdlib --product warren

run: build
	.build/release/warren

test: deps
	scripts/run-tests.sh

install: build
	install -d $(PREFIX)/bin $(PREFIX)/share/warren/runbooks/lib
	install -m 755 .build/release/warren $(PREFIX)/bin/warren
	install -m 644 runbooks/*.lua $(PREFIX)/share/warren/runbooks/
	install -m 644 runbooks/lib/*.lua $(PREFIX)/share/warren/runbooks/lib/

bench: deps
	swift build -c release --product warren-bench --product warren
	bench/run.sh

clean:
	rm -rf .build
