package service

import (
	"context"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// scmStartTypes maps the portable start types to the SCM's and the
// delayed auto-start flag.
var scmStartTypes = map[StartType]struct {
	native  uint32
	delayed bool
}{
	StartTypeAutomatic:        {windows.SERVICE_AUTO_START, false},
	StartTypeAutomaticDelayed: {windows.SERVICE_AUTO_START, true},
	StartTypeManual:           {windows.SERVICE_DEMAND_START, false},
	StartTypeDisabled:         {windows.SERVICE_DISABLED, false},
}

// SetStartType changes the start type with ChangeServiceConfig and the
// delayed auto-start flag with ChangeServiceConfig2, then reads it back.
func (m scmManager) SetStartType(ctx context.Context, name string, t StartType, opts StartTypeOptions) (StartTypeResult, error) {
	if err := ValidStartType(t); err != nil {
		return StartTypeResult{}, err
	}
	if err := validateName(name); err != nil {
		return StartTypeResult{}, err
	}
	if err := (ControlOptions{Timeout: opts.Timeout}).Validate(); err != nil {
		return StartTypeResult{}, err
	}
	before, err := m.Get(ctx, name)
	if err != nil {
		return StartTypeResult{}, err
	}
	r := StartTypeResult{PreviousStartType: before.StartType, PreviousNativeStartType: before.NativeStartType, PreviousState: before.State}
	if before.StartType != t {
		if err := changeStartType(before.Name, t, before.StartType == StartTypeAutomaticDelayed); err != nil {
			return StartTypeResult{}, err
		}
		r.Changed = true
	}
	if r.Service, err = m.Get(ctx, before.Name); err != nil {
		return StartTypeResult{}, err
	}
	if r.Service.StartType != t {
		return StartTypeResult{}, fmt.Errorf("%w: service %q: start type reads back as %s (%s) after setting %s",
			errdefs.ErrInternal, before.Name, r.Service.StartType, r.Service.NativeStartType, t)
	}
	return r, applyNow(ctx, m, before.Name, t, opts, &r)
}

// changeStartType sets the start type, and the delayed flag only when it
// must change (set for AutomaticDelayed, cleared when leaving it), so an
// SCM without the flag (Wine 8) still sets the other types.
func changeStartType(name string, t StartType, wasDelayed bool) error {
	sc, err := connect()
	if err != nil {
		return err
	}
	defer disconnect(sc)
	s, err := openService(sc, name, windows.SERVICE_CHANGE_CONFIG|queryAccess)
	if err != nil {
		return err
	}
	defer s.Close() //nolint:errcheck // a handle we own
	want := scmStartTypes[t]
	if err := windows.ChangeServiceConfig(s.Handle, windows.SERVICE_NO_CHANGE, want.native, windows.SERVICE_NO_CHANGE,
		nil, nil, nil, nil, nil, nil, nil); err != nil {
		return scmErr("change the start type of", name, err)
	}
	// The flag only means something with AUTO_START; clear it when leaving
	// AutomaticDelayed so a later "automatic" does not come back delayed.
	if !want.delayed && !wasDelayed {
		return nil
	}
	info := windows.SERVICE_DELAYED_AUTO_START_INFO{}
	if want.delayed {
		info.IsDelayedAutoStartUp = 1
	}
	if err := windows.ChangeServiceConfig2(s.Handle, windows.SERVICE_CONFIG_DELAYED_AUTO_START_INFO, (*byte)(unsafe.Pointer(&info))); err != nil {
		if errors.Is(err, windows.ERROR_INVALID_LEVEL) {
			return fmt.Errorf("%w: service %s: this service control manager does not support the delayed auto-start flag (SERVICE_CONFIG_DELAYED_AUTO_START_INFO; Wine lacks it); the start type is now %s: %w",
				errdefs.ErrNotSupported, name, map[bool]StartType{true: StartTypeAutomatic, false: t}[want.delayed], err)
		}
		return scmErr("set the delayed auto-start flag of", name, err)
	}
	return nil
}
