using System.Runtime.Versioning;

// The benchmark drives Linux tools (wrk, nginx, opentracker) and sets Unix file modes.
[assembly: SupportedOSPlatform("linux")]
