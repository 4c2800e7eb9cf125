# Convenience targets; the README's commands work without make.
.PHONY: run demo check test deps bench fmt

run demo:
	bash ./examples/demo/run.sh

check:
	bash ./examples/demo/run.sh -check

test:
	bash ./.ci/test

deps:
	bash .ci/install-deps

fmt:
	gofmt -w $$(git ls-files '*.go')

bench:
	go run ./internal/signalbench/cmd -runs 3
	go run ./internal/mediabench/cmd
	go run ./internal/turnbench -runs 3
	go run ./internal/audiobench/cmd
	go test -run - -bench . ./capture/vp8 ./playback/vp8 ./capture/opus ./playback/opus
