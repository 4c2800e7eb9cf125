# Convenience targets; the README's commands work without make.
.PHONY: run test deps bench fmt

run:
	go run ./examples/signal-server

test:
	bash .ci/test

deps:
	bash .ci/install-deps

fmt:
	gofmt -w $$(git ls-files '*.go')
