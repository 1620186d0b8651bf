using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace CdsMitral.Fhir;

/// <summary>
/// FHIR arrays never hold null, but senders (and attackers) write them: "coding": [null]. A null element carries no
/// data, so it is dropped when read, and no code downstream ever meets a null where a record belongs.
/// </summary>
public sealed class SkipNullsInLists : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(List<>) && !typeToConvert.GetGenericArguments()[0].IsValueType;

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(Converter<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]))!;

    private sealed class Converter<T> : JsonConverter<List<T>>
        where T : class
    {
        public override List<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw new JsonException($"Expected an array of {typeof(T).Name}.");
            }
            var element = (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
            var list = new List<T>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.Null && JsonSerializer.Deserialize(ref reader, element) is { } item)
                {
                    list.Add(item);
                }
            }
            return list;
        }

        public override void Write(Utf8JsonWriter writer, List<T> value, JsonSerializerOptions options)
        {
            var element = (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
            writer.WriteStartArray();
            foreach (var item in value)
            {
                if (item is not null)
                {
                    JsonSerializer.Serialize(writer, item, element);
                }
            }
            writer.WriteEndArray();
        }
    }
}
