VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build run test check clean fuzz soak bench bench-dns bigzones scale

build:
	go build -ldflags "$(LDFLAGS)" -o bin/mxdns ./cmd/mxdns

run: build
	bin/mxdns serve -config config.example.yaml

test:
	go vet ./...
	go test -race ./...

check: build
	bin/mxdns check -strict config.example.yaml

# Each fuzz target for FUZZTIME (a minute by default), one after the other.
FUZZTIME ?= 60s
FUZZ_TARGETS := FuzzFromYAML:./zone FuzzPacket:./server
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t%%:*} for $(FUZZTIME)"; \
		go test -run='^$$' -fuzz="^$${t%%:*}$$" -fuzztime=$(FUZZTIME) $${t#*:}; \
	done

# The reload-under-load test, longer: SOAK_REWRITES rewrites (default 5000).
SOAK_REWRITES ?= 5000
soak:
	MXDNS_SOAK_REWRITES=$(SOAK_REWRITES) go test -race -count=1 -timeout=30m -run='^TestReloadUnderLoad$$' -v ./server

clean:
	rm -rf bin

# Go micro-benchmarks: the fast path, the general path, lookups.
bench:
	go test -run '^$$' -bench . -benchmem ./...

# dnsperf against mxdns, Knot and NSD serving the same zone (see README).
bench-dns:
	scripts/bench-dns.sh

BIG ?= /tmp/mxdns-big

# A data set of 10,000 zone files and about a million records.
bigzones:
	rm -rf $(BIG)
	go run ./cmd/mxdns-gen -out $(BIG) -zones 10000 -records 1000000

# Load, memory, single-file reload latency and lookup cost on $(BIG).
scale: build
	@test -d $(BIG)/zones || $(MAKE) bigzones
	go run ./cmd/mxdns-scale -dir $(BIG) -bin bin/mxdns
