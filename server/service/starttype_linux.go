package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// SetStartType enables or disables a unit's unit file over D-Bus, as
// systemctl enable/disable do: EnableUnitFiles or DisableUnitFiles, then
// Reload so systemd sees the new links. Manual and Disabled both disable
// (systemd's "disabled" still starts by hand or as a dependency); masking is
// left to the host's administrator, and masked units are refused.
func (m *systemdManager) SetStartType(ctx context.Context, name string, t StartType, opts StartTypeOptions) (StartTypeResult, error) {
	if err := ValidStartType(t); err != nil {
		return StartTypeResult{}, err
	}
	if t == StartTypeAutomaticDelayed {
		return StartTypeResult{}, fmt.Errorf("%w: start type %s exists only on Windows; systemd has automatic (enabled), manual and disabled", errdefs.ErrInvalidArgument, t)
	}
	unit, err := unitName(name)
	if err != nil {
		return StartTypeResult{}, err
	}
	if err := (ControlOptions{Timeout: opts.Timeout}).Validate(); err != nil {
		return StartTypeResult{}, err
	}
	c, err := m.connection(ctx)
	if err != nil {
		return StartTypeResult{}, err
	}
	before, err := get(ctx, c, unit)
	if err != nil {
		return StartTypeResult{}, err
	}
	unit = before.Name
	r := StartTypeResult{PreviousStartType: before.StartType, PreviousNativeStartType: before.NativeStartType, PreviousState: before.State}
	if err := changeUnitFile(ctx, m, unit, t, before.NativeStartType, &r); err != nil {
		return StartTypeResult{}, err
	}
	if r.Service, err = get(ctx, c, unit); err != nil {
		return StartTypeResult{}, err
	}
	if t == StartTypeAutomatic && r.Service.StartType != StartTypeAutomatic {
		return StartTypeResult{}, fmt.Errorf("%w: unit %q: still %q after enabling: its unit file has no [Install] section to enable (static units start only as dependencies or by hand)",
			errdefs.ErrFailedPrecondition, unit, r.Service.NativeStartType)
	}
	return r, applyNow(ctx, m, unit, t, opts, &r)
}

// changeUnitFile links or unlinks the unit file unless it already has the
// requested start type.
func changeUnitFile(ctx context.Context, m *systemdManager, unit string, t StartType, native string, r *StartTypeResult) error {
	if strings.HasPrefix(native, "masked") {
		return fmt.Errorf("%w: unit %q is masked (UnitFileState %s): it cannot be started or enabled until an administrator unmasks it on the host (systemctl unmask %s); ctld does not unmask units",
			errdefs.ErrFailedPrecondition, unit, native, unit)
	}
	want := startTypeOf(native)
	if t != StartTypeAutomatic {
		t = StartTypeManual // systemd's "disabled"
	}
	if want == t && native != "enabled-runtime" {
		return nil
	}
	c, err := m.connection(ctx)
	if err != nil {
		return err
	}
	if t == StartTypeAutomatic {
		_, _, err = c.EnableUnitFilesContext(ctx, []string{unit}, false, false)
	} else {
		_, err = c.DisableUnitFilesContext(ctx, []string{unit}, false)
	}
	if err != nil {
		return mapErr(ctx, c, fmt.Errorf("change the unit file: %w", err), unit)
	}
	if err := c.ReloadContext(ctx); err != nil {
		return mapErr(ctx, c, fmt.Errorf("daemon reload: %w", err), unit)
	}
	r.Changed = true
	return nil
}
