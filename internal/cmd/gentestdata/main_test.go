package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestTestdataIsCurrent fails when the files in testdata differ from what
// the generator makes: rerun it after changing it or the writers it uses.
func TestTestdataIsCurrent(t *testing.T) {
	files, err := build()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if len(f.data) > 200<<10 {
			t.Errorf("%s is %d bytes, over the 200 KiB limit", f.name, len(f.data))
		}
		have, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", f.name))
		if err != nil {
			t.Errorf("%s: %v (run go generate ./capture/filesrc)", f.name, err)
			continue
		}
		if !bytes.Equal(have, f.data) {
			t.Errorf("testdata/%s is stale: run go generate ./capture/filesrc", f.name)
		}
	}
}
