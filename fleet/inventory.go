package fleet

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// Inventory is ctl's configuration file, shaped like a kubeconfig: named
// contexts, each a fleet with its own credentials, and the current one.
//
//	current-context: prod
//	contexts:
//	  - name: prod
//	    cacert: /etc/remotectl/prod/ca.crt
//	    cert: /etc/remotectl/prod/ops.crt
//	    key: /etc/remotectl/prod/ops.key
//	    hosts:
//	      - name: web1
//	        address: 10.0.0.11:7443
//	        labels: {role: web, env: prod}
//	        groups: [web, eu]
type Inventory struct {
	CurrentContext string    `yaml:"current-context,omitempty" json:"current_context,omitempty"`
	Contexts       []Context `yaml:"contexts" json:"contexts"`
}

// Context is one fleet and how to authenticate to it.
type Context struct {
	Name     string `yaml:"name" json:"name"`
	CACert   string `yaml:"cacert,omitempty" json:"cacert,omitempty"`
	Cert     string `yaml:"cert,omitempty" json:"cert,omitempty"`
	Key      string `yaml:"key,omitempty" json:"key,omitempty"`
	Insecure bool   `yaml:"insecure,omitempty" json:"insecure,omitempty"`
	Hosts    []Host `yaml:"hosts,omitempty" json:"hosts"`
}

// LoadInventory reads path; a missing file is an empty inventory.
func LoadInventory(path string) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Inventory{}, nil
	}
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := checkOwnership(path, fi); err != nil {
		return nil, err
	}
	inv := &Inventory{}
	if err := yaml.Unmarshal(data, inv); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return inv, inv.Validate()
}

// Validate checks that names are present and unique.
func (inv *Inventory) Validate() error {
	seen := map[string]bool{}
	for _, c := range inv.Contexts {
		if c.Name == "" || seen[c.Name] {
			return fmt.Errorf("inventory: context name %q is empty or repeated", c.Name)
		}
		seen[c.Name] = true
		hosts := map[string]bool{}
		for _, h := range c.Hosts {
			if h.Name == "" || hosts[h.Name] {
				return fmt.Errorf("inventory: context %s: host name %q is empty or repeated", c.Name, h.Name)
			}
			hosts[h.Name] = true
		}
	}
	if inv.CurrentContext != "" && inv.Context(inv.CurrentContext) == nil {
		return fmt.Errorf("inventory: current-context %q is not defined", inv.CurrentContext)
	}
	return nil
}

// Context returns the named context, or nil.
func (inv *Inventory) Context(name string) *Context {
	for i := range inv.Contexts {
		if inv.Contexts[i].Name == name {
			return &inv.Contexts[i]
		}
	}
	return nil
}

// Save writes the inventory atomically, readable by its owner only (it
// names key files).
func (inv *Inventory) Save(path string) error {
	data, err := yaml.Marshal(inv)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.yaml")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
