namespace Pulse.Configuration;

/// <summary>Invalid configuration: <see cref="Exception.Message"/> is one line naming the key and the problem.</summary>
internal sealed class ConfigurationException(string key, string problem)
    : Exception($"configuration error: {key}: {problem}")
{
    public string Key { get; } = key;
}
