namespace Pulse.Tests;
