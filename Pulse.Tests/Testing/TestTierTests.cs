using System.Reflection;

namespace Pulse.Tests.Testing;

/// <summary>
/// Every test class carries one <c>Category</c> trait, so <c>dotnet test --filter Category=unit</c> runs
/// exactly the pure tier: unit (no database, no socket), postgres (needs the database), socket (a real
/// server or socket in-process), binary (drives the AOT binary or nginx), browser (Chromium/JS).
/// </summary>
[Trait("Category", "unit")] public sealed class TestTierTests
{
    private static readonly string[] Tiers = ["unit", "postgres", "socket", "binary", "browser"];

    [Fact]
    public void EveryTestClass_HasExactlyOneKnownCategory()
    {
        var testClasses = typeof(TestTierTests).Assembly.GetTypes()
            .Where(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Any(m => m.GetCustomAttributes<FactAttribute>(inherit: true).Any()))
            .ToList();

        var wrong = testClasses
            .Select(t => (Type: t, Categories: Categories(t)))
            .Where(c => c.Categories.Count != 1 || !Tiers.Contains(c.Categories[0], StringComparer.Ordinal))
            .Select(c => $"{c.Type.FullName}: [{string.Join(", ", c.Categories)}]")
            .ToList();

        Assert.True(testClasses.Count > 50, $"found only {testClasses.Count} test classes: the scan is broken");
        Assert.True(wrong.Count == 0, "test classes without exactly one Category trait of " + string.Join('|', Tiers) + ":\n" + string.Join('\n', wrong));
    }

    [Fact]
    public void Categories_OfAClassWithoutTrait_IsEmpty() =>
        Assert.Empty(Categories(typeof(Untagged)));

    // xunit reads [Trait] by its constructor arguments (name, value); so do we.
    private static List<string> Categories(Type type) =>
        [.. type.GetCustomAttributesData()
            .Where(a => a.AttributeType == typeof(TraitAttribute) && a.ConstructorArguments.Count == 2 && (string?)a.ConstructorArguments[0].Value == "Category")
            .Select(a => (string)a.ConstructorArguments[1].Value!)];

    private sealed class Untagged;
}
