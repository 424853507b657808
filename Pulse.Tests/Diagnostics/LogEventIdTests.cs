using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace Pulse.Tests.Diagnostics;

/// <summary>
/// Every <c>[LoggerMessage]</c> of the product, found by reflection over the Pulse assembly: one family of
/// classes in Pulse.Diagnostics, one call style, an id unique across the product, inside its layer's range
/// and not retired (<see cref="LogEventIds"/>).
/// </summary>
[Trait("Category", "unit")] public sealed class LogEventIdTests
{
    private static readonly List<(MethodInfo Method, LoggerMessageAttribute Attribute)> Messages =
        [.. typeof(LogEventIds).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(m => m.Attribute is not null)
            .Select(m => (m.Method, m.Attribute!))];

    [Fact]
    public void LoggerMessages_PulseAssembly_FoundInEveryLayerClass()
    {
        // Guards the tests below against passing on nothing: each layer's class is found and has lines.
        Assert.Equal(
            LogEventIds.RangeStart.Keys.Order(StringComparer.Ordinal),
            Messages.Select(m => m.Method.DeclaringType!.Name).Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void LoggerMessages_EventIds_UniqueAcrossTheProduct()
    {
        var duplicates = Messages.GroupBy(m => m.Attribute.EventId).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => $"{m.Method.DeclaringType!.Name}.{m.Method.Name}"))}");
        Assert.Empty(duplicates);
    }

    [Fact]
    public void LoggerMessages_EventIds_InTheirLayersRangeAndNotRetired()
    {
        foreach (var (method, attribute) in Messages)
        {
            string where = $"{method.DeclaringType!.Name}.{method.Name} ({attribute.EventId})";
            Assert.True(LogEventIds.RangeStart.TryGetValue(method.DeclaringType.Name, out int first), $"{where}: its class has no range in LogEventIds");
            Assert.InRange(attribute.EventId, first, first + 99);
            Assert.DoesNotContain(attribute.EventId, LogEventIds.Retired);
        }
    }

    [Fact]
    public void LoggerMessages_Classes_InDiagnosticsAndCalledOneWay()
    {
        // One call style: LayerLog.Line(logger, …), as Kestrel's SocketsLog; an extension method would allow a second.
        foreach (var (method, _) in Messages)
        {
            string where = $"{method.DeclaringType!.FullName}.{method.Name}";
            Assert.Equal("Pulse.Diagnostics", method.DeclaringType.Namespace);
            Assert.True(method.IsStatic, where);
            Assert.False(method.IsDefined(typeof(ExtensionAttribute)), $"{where} is an extension method");
            Assert.Equal(typeof(ILogger), method.GetParameters()[0].ParameterType);
        }
    }
}
