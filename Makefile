VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build run test check clean fuzz soak bench bench-dns bigzones bigrev scale chaos install uninstall dist generate

build:
	go build -ldflags "$(LDFLAGS)" -o bin/mxdns ./cmd/mxdns

run: build
	bin/mxdns serve -config config.example.yaml

test:
	go vet ./...
	go test -race ./...

check: build
	bin/mxdns check -strict config.example.yaml

# Each fuzz target for its own number of runs (about 30 s each on a quiet
# 2-core machine), one after the other; FUZZTIME=60s or FUZZTIME=1000000x
# sets one budget for all. The counts are the default because Go 1.26's
# fuzz coordinator can fail a clean run that ends on a wall-clock deadline
# with "context deadline exceeded" (go.dev/issue/75804, fixed in Go 1.27).
FUZZTIME ?=
FUZZ_TARGETS := FuzzFromYAML:./zone:150000x FuzzPacket:./server/answer:400000x
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		name=$${t%%:*}; rest=$${t#*:}; pkg=$${rest%%:*}; budget=$${rest#*:}; \
		budget=$(or $(FUZZTIME),$$budget); \
		echo "fuzz $$name for $$budget"; \
		go test -run='^$$' -fuzz="^$$name$$" -fuzztime=$$budget $$pkg; \
	done

# The reload-under-load test, longer: SOAK_REWRITES rewrites (default 5000).
SOAK_REWRITES ?= 5000
soak:
	MXDNS_SOAK_REWRITES=$(SOAK_REWRITES) go test -race -count=1 -timeout=30m -run='^TestReloadUnderLoad$$' -v ./server

clean:
	rm -rf bin dist

# Regenerates mxdns.1 and contrib/mxdns.bash-completion from the usage
# text in cmd/mxdns/run.go (a test fails when they are stale).
generate:
	go generate ./cmd/mxdns

# make install [PREFIX=/usr/local] [DESTDIR=]: the binary, the man page,
# the systemd unit (under $(PREFIX)/lib/systemd/system, which systemd reads
# for /usr and /usr/local; its paths follow BINDIR), bash completion, and
# the example configuration as documentation: /etc/mxdns is yours.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/mxdns
UNITDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

install: build
	install -D -m 0755 bin/mxdns $(DESTDIR)$(BINDIR)/mxdns
	install -D -m 0644 mxdns.1 $(DESTDIR)$(MANDIR)/man1/mxdns.1
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/bin/mxdns|$(BINDIR)/mxdns|g' contrib/mxdns.service >$(DESTDIR)$(UNITDIR)/mxdns.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/mxdns.service
	install -D -m 0644 contrib/mxdns.bash-completion $(DESTDIR)$(BASHCOMPDIR)/mxdns
	install -D -m 0644 config.example.yaml $(DESTDIR)$(DOCDIR)/config.example.yaml
	install -D -m 0644 -t $(DESTDIR)$(DOCDIR)/zones zones/*.yaml
	@if [ -f LICENSE ]; then install -D -m 0644 LICENSE $(DESTDIR)$(DOCDIR)/LICENSE; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mxdns $(DESTDIR)$(MANDIR)/man1/mxdns.1 \
		$(DESTDIR)$(UNITDIR)/mxdns.service $(DESTDIR)$(BASHCOMPDIR)/mxdns
	rm -rf $(DESTDIR)$(DOCDIR)

# make dist: static binaries (no cgo) for each of DIST_PLATFORMS, each in
# dist/mxdns-VERSION-OS-ARCH.tar.gz with the man page, the unit, bash
# completion, the example configuration, README and LICENSE; the archives
# are byte for byte the same for the same commit. SHA256SUMS lists them.
DIST_PLATFORMS ?= linux/amd64 linux/arm64
DIST_FILES := mxdns.1 contrib/mxdns.service contrib/mxdns.bash-completion config.example.yaml README.md
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

dist:
	@set -e; rm -rf dist; mkdir -p dist; \
	for p in $(DIST_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; name=mxdns-$(VERSION)-$$os-$$arch; dir=dist/$$name; \
		echo "dist/$$name.tar.gz"; \
		mkdir -p $$dir/zones; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -ldflags "$(LDFLAGS)" -o $$dir/mxdns ./cmd/mxdns; \
		cp $(DIST_FILES) $$dir/; cp zones/*.yaml $$dir/zones/; \
		if [ -f LICENSE ]; then cp LICENSE $$dir/; fi; \
		tar -C dist --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$(SOURCE_DATE_EPOCH) \
			-cf - $$name | gzip -n >dist/$$name.tar.gz; \
		rm -rf $$dir; \
	done; \
	cd dist && sha256sum *.tar.gz >SHA256SUMS

# Go micro-benchmarks: the fast path, the general path, lookups.
bench:
	go test -run '^$$' -bench . -benchmem ./...

# dnsperf against mxdns, Knot and NSD serving the same zone (see CONTRIBUTING.md).
# make bench-dns [SECS=5] [ROUNDS=3] [RATE=40000] [LIGHT=10000]: see
# scripts/bench-dns.sh.
SECS ?= 5
ROUNDS ?= 3
RATE ?= 40000
LIGHT ?= 10000
bench-dns:
	scripts/bench-dns.sh $(SECS) $(ROUNDS) $(RATE) $(LIGHT)

BIG ?= /tmp/mxdns-big
BIGREV ?= /tmp/mxdns-bigrev

# A data set of 10,000 zone files and about a million records.
bigzones:
	rm -rf $(BIG)
	go run ./cmd/mxdns-gen -out $(BIG) -zones 10000 -records 1000000

# The same forward zones, whose automatic PTRs all land in one 10.0.0.0/8
# reverse zone (430,000 of them): every edit changes that zone.
bigrev:
	rm -rf $(BIGREV)
	go run ./cmd/mxdns-gen -out $(BIGREV) -zones 10000 -records 1000000 -shape one-reverse

# Load, memory, single-file reload latency, RSS drift and lookup cost on
# $(BIG), then on $(BIGREV) with 50 reloads, then the time to sign every
# zone of $(BIG) beside Knot signing them exported (when knotd is there).
scale: build
	@test -d $(BIG)/zones || $(MAKE) bigzones
	@test -d $(BIGREV)/zones || $(MAKE) bigrev
	go run ./cmd/mxdns-scale -dir $(BIG) -bin bin/mxdns
	go run ./cmd/mxdns-scale -dir $(BIGREV) -bin bin/mxdns -reloads 50
	go run ./cmd/mxdns-scale -dir $(BIG) -bin bin/mxdns -sign

# Bad saves, restarts and hostile files under a dnsperf load of 12,000 q/s
# (issue #13); fails on any wrong answer, RSS >= 512 MiB or a serial going
# backwards. Needs dnsperf.
chaos: build
	go run ./cmd/mxdns-chaos -bin bin/mxdns
