namespace Pulse.Demo;

/// <summary>A demo step failed in a way the user can act on; the message is printed as is.</summary>
internal sealed class DemoException(string message) : Exception(message);
