package logs

// serviceSource: a service's logs are its unit's journal entries.
func serviceSource(name string) (Source, error) {
	return Source{Kind: KindJournal, Unit: name}, nil
}
