namespace Pulse.Testing.Phoenix;

/// <summary>How a <see cref="PhoenixClient"/> connects.</summary>
internal sealed class PhoenixClientOptions
{
    /// <summary>The <c>Origin</c> header to send (browsers always do); none by default.</summary>
    public string? Origin { get; init; }

    /// <summary>
    /// The serializer of <see cref="PhoenixClient.PushAsync"/>; null: V1 when the URL asks for
    /// <c>vsn=1.0.0</c>, else V2.
    /// </summary>
    public bool? V1 { get; init; }

    /// <summary>How long a helper waits for an answer unless told otherwise.</summary>
    public TimeSpan DefaultWait { get; init; } = TimeSpan.FromSeconds(10);
}
