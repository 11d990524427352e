package defaults

import "reflect"

// Fill sets *v to def when *v is zero or negative: the one rule of every
// limit, size and interval in remotectl's configurations, where zero (and
// anything below it) means "the default".
func Fill[T ~int | ~int64 | ~float64](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// FillAll applies Fill's rule to every numeric field of the struct *s,
// taking the default from the same field of def: a limits struct declares
// its defaults once, as a value, and a field added without one shows in
// that literal rather than as a silent zero. Fields of other kinds are left
// alone. S must be a struct type.
func FillAll[S any](s *S, def S) {
	v, d := reflect.ValueOf(s).Elem(), reflect.ValueOf(def)
	for i := range v.NumField() {
		f := v.Field(i)
		if !f.CanSet() {
			continue
		}
		switch {
		case f.CanInt():
			if f.Int() <= 0 {
				f.SetInt(d.Field(i).Int())
			}
		case f.CanUint():
			if f.Uint() == 0 {
				f.SetUint(d.Field(i).Uint())
			}
		case f.CanFloat():
			if f.Float() <= 0 {
				f.SetFloat(d.Field(i).Float())
			}
		}
	}
}
