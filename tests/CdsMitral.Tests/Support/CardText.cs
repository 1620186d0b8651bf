using Markdig;

namespace CdsMitral.Tests.Support;

/// <summary>What a clinician reads of a card's markdown detail: rendered, with the markup (and its escapes) gone.</summary>
public static class CardText
{
    private static readonly MarkdownPipeline Gfm = new MarkdownPipelineBuilder().UsePipeTables().UseEmphasisExtras().Build();

    public static string Of(string markdown) => Markdown.ToPlainText(markdown, Gfm);
}
