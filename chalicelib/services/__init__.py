"""The service layer: one function per command, each loading, deciding through the domain and saving in one unit of work."""
