package defaults

// Fill sets *v to def when *v is zero or negative: the one rule of every
// limit, size and interval in remotectl's configurations, where zero (and
// anything below it) means "the default".
func Fill[T ~int | ~int64 | ~float64](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
