VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build run test check clean

build:
	go build -ldflags "$(LDFLAGS)" -o bin/mxdns ./cmd/mxdns

run: build
	bin/mxdns serve -config config.example.yaml

test:
	go vet ./...
	go test -race ./...

check: build
	bin/mxdns check -config config.example.yaml

clean:
	rm -rf bin
