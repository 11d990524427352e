package logs

// serviceSource: a service's logs are the Application channel's records of
// the provider named like the service (how services register their event
// source); the SCM's own start/stop records are in System.
func serviceSource(name string) (Source, error) {
	return Source{Kind: KindEventLog, Channel: "Application", Provider: name}, nil
}
