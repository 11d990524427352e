package fleet

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestInventoryLoadSaveAndRefusals(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	inv, err := LoadInventory(path)
	if err != nil || len(inv.Contexts) != 0 {
		t.Fatalf("a missing file is an empty inventory: %+v %v", inv, err)
	}
	inv = &Inventory{CurrentContext: "a", Contexts: []Context{{Name: "a", Cert: "c.crt", Hosts: []Host{{Name: "web1", Addr: "10.0.0.1", Labels: map[string]string{"role": "web"}}}}}}
	if err := inv.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadInventory(path)
	if err != nil || back.Context("a") == nil || back.Context("a").Hosts[0].Labels["role"] != "web" {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	fi, _ := os.Stat(path)
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("saved with mode %s, want 0600", fi.Mode().Perm())
	}
	bad := map[string]string{
		"repeated host":     "contexts: [{name: a, hosts: [{name: x}, {name: x}]}]",
		"unnamed context":   "contexts: [{hosts: []}]",
		"undefined current": "current-context: b\ncontexts: [{name: a}]",
		"not yaml":          "contexts: [",
	}
	for name, body := range bad {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadInventory(path); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if runtime.GOOS != "windows" {
		if err := os.WriteFile(path, []byte("contexts: []"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o666); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadInventory(path); err == nil || !strings.Contains(err.Error(), "writable by group or others") {
			t.Errorf("a world-writable inventory must be refused: %v", err)
		}
	}
}
