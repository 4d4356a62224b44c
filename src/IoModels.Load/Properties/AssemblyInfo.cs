using System.Runtime.CompilerServices;

// Every native struct this library passes is blittable; the runtime never marshals anything for us.
[assembly: DisableRuntimeMarshalling]
