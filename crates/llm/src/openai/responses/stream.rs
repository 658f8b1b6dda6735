//! Canonical chunk stream → Responses stream events.
//!
//! A complete stream is: `response.created` and `response.in_progress`
//! (the response with empty output); per output item
//! `response.output_item.added`, then for the message
//! `response.content_part.added`, `response.output_text.delta`s,
//! `response.output_text.done`, `response.content_part.done`, or for a
//! function call `response.function_call_arguments.delta`s and
//! `response.function_call_arguments.done`; then
//! `response.output_item.done`; last `response.completed` (or
//! `response.incomplete` when the answer was cut at the token cap) with the
//! whole response and its usage. Every event is an SSE event named by its
//! `type`, whose data carries `type` and a `sequence_number` counting from
//! 0. A failure after the start ends the stream with one `error` event.
//!
//! Only choice 0 is encoded (Responses has no `n`). Items are closed as
//! soon as the next one opens, so at most one is open at a time; the SDK's
//! stream accumulator matches `added` and `done` items by id.

use bytes::Bytes;
use serde_json::{Value, json};
use sy_core::TokenUsage;

use super::object::{Echo, OutputItem, OutputText, ResponseUsage, Stamp, response_object};
use crate::chat::{ChatChunk, FinishReason, ToolCallDelta};
use crate::sse::{self, SseEvent};

/// Stateful encoder for one stream. Feed chunks in order with
/// [`push`](Self::push); call [`finish`](Self::finish) with the settled
/// usage when the chunks end, or [`error`](Self::error) when they fail.
#[derive(Debug)]
pub struct ResponsesStream {
    stamp: Stamp,
    echo: Echo,
    sequence: u64,
    /// Items closed so far, in output order.
    done: Vec<OutputItem>,
    /// The item being streamed, if any.
    open: Option<Open>,
    /// The chat index of the tool call being streamed.
    call_index: Option<u32>,
    finish: Option<FinishReason>,
    ended: bool,
}

#[derive(Debug)]
enum Open {
    Text(String),
    Call {
        call_id: String,
        name: String,
        arguments: String,
    },
}

impl ResponsesStream {
    /// An encoder for the response `stamp` names.
    pub fn new(stamp: Stamp, echo: Echo) -> ResponsesStream {
        ResponsesStream {
            stamp,
            echo,
            sequence: 0,
            done: Vec::new(),
            open: None,
            call_index: None,
            finish: None,
            ended: false,
        }
    }

    /// `response.created` and `response.in_progress`.
    pub fn start(&mut self) -> Vec<Bytes> {
        let response = response_object(&self.stamp, &self.echo, true, &[], None, None);
        vec![
            self.event("response.created", json!({"response": response})),
            self.event("response.in_progress", json!({"response": response})),
        ]
    }

    /// The events one chunk makes (none for role-only or usage chunks).
    pub fn push(&mut self, chunk: &ChatChunk) -> Vec<Bytes> {
        let mut out = Vec::new();
        let Some(choice) = chunk.choices.iter().find(|c| c.index == 0) else {
            return out;
        };
        if let Some(text) = choice.delta.content.as_deref().filter(|t| !t.is_empty()) {
            if !matches!(self.open, Some(Open::Text(_))) {
                self.close(&mut out);
                self.open_text(&mut out);
            }
            if let Some(Open::Text(buffer)) = &mut self.open {
                buffer.push_str(text);
            }
            let (item_id, output_index) = (self.stamp.message_id.clone(), self.done.len());
            out.push(self.event(
                "response.output_text.delta",
                json!({"item_id": item_id, "output_index": output_index,
                       "content_index": 0, "delta": text, "logprobs": []}),
            ));
        }
        for call in choice.delta.tool_calls.iter().flatten() {
            self.push_call(call, &mut out);
        }
        if choice.finish_reason.is_some() {
            self.finish = choice.finish_reason;
        }
        out
    }

    /// Close the open item and send `response.completed` (or
    /// `response.incomplete`) with `tokens` as usage.
    pub fn finish(&mut self, tokens: &TokenUsage) -> Vec<Bytes> {
        let mut out = Vec::new();
        if self.ended {
            return out;
        }
        self.ended = true;
        self.close(&mut out);
        let usage = ResponseUsage::from_tokens(tokens);
        let response = response_object(
            &self.stamp,
            &self.echo,
            false,
            &self.done,
            self.finish,
            Some(&usage),
        );
        let name = if response["status"] == "incomplete" {
            "response.incomplete"
        } else {
            "response.completed"
        };
        out.push(self.event(name, json!({"response": response})));
        out
    }

    /// The `error` event that ends a failed stream.
    pub fn error(&mut self, code: Option<&str>, message: &str) -> Vec<Bytes> {
        if self.ended {
            return Vec::new();
        }
        self.ended = true;
        vec![self.event(
            "error",
            json!({"code": code, "message": message, "param": null}),
        )]
    }

    fn push_call(&mut self, call: &ToolCallDelta, out: &mut Vec<Bytes>) {
        if self.call_index != Some(call.index) || !matches!(self.open, Some(Open::Call { .. })) {
            self.close(out);
            self.call_index = Some(call.index);
            let function = call.function.as_ref();
            let call_id = call
                .id
                .clone()
                .unwrap_or_else(|| format!("call_{}_{}", self.stamp.message_id, self.done.len()));
            let name = function.and_then(|f| f.name.clone()).unwrap_or_default();
            let item = OutputItem::FunctionCall {
                id: format!("fc_{call_id}"),
                call_id: call_id.clone(),
                name: name.clone(),
                arguments: String::new(),
                status: "in_progress".to_owned(),
            };
            let output_index = self.done.len();
            out.push(self.event(
                "response.output_item.added",
                json!({"output_index": output_index, "item": item}),
            ));
            self.open = Some(Open::Call {
                call_id,
                name,
                arguments: String::new(),
            });
        }
        let piece = call
            .function
            .as_ref()
            .and_then(|f| f.arguments.as_deref())
            .unwrap_or_default();
        if piece.is_empty() {
            return;
        }
        let mut item_id = String::new();
        if let Some(Open::Call {
            call_id, arguments, ..
        }) = &mut self.open
        {
            arguments.push_str(piece);
            item_id = format!("fc_{call_id}");
        }
        let output_index = self.done.len();
        out.push(self.event(
            "response.function_call_arguments.delta",
            json!({"item_id": item_id, "output_index": output_index, "delta": piece}),
        ));
    }

    fn open_text(&mut self, out: &mut Vec<Bytes>) {
        let output_index = self.done.len();
        let item = OutputItem::Message {
            id: self.stamp.message_id.clone(),
            status: "in_progress".to_owned(),
            role: "assistant".to_owned(),
            content: Vec::new(),
        };
        let item_id = self.stamp.message_id.clone();
        out.push(self.event(
            "response.output_item.added",
            json!({"output_index": output_index, "item": item}),
        ));
        out.push(self.event(
            "response.content_part.added",
            json!({"item_id": item_id, "output_index": output_index, "content_index": 0,
                   "part": OutputText::new("")}),
        ));
        self.open = Some(Open::Text(String::new()));
    }

    /// Send the `.done` events of the open item and move it to `done`.
    fn close(&mut self, out: &mut Vec<Bytes>) {
        let Some(open) = self.open.take() else {
            return;
        };
        let output_index = self.done.len();
        let item = match open {
            Open::Text(text) => {
                let item_id = self.stamp.message_id.clone();
                let status = if super::object::incomplete_reason(self.finish).is_some() {
                    "incomplete"
                } else {
                    "completed"
                };
                out.push(self.event(
                    "response.output_text.done",
                    json!({"item_id": item_id, "output_index": output_index,
                           "content_index": 0, "text": text, "logprobs": []}),
                ));
                out.push(self.event(
                    "response.content_part.done",
                    json!({"item_id": item_id, "output_index": output_index,
                           "content_index": 0, "part": OutputText::new(text.clone())}),
                ));
                OutputItem::Message {
                    id: item_id,
                    status: status.to_owned(),
                    role: "assistant".to_owned(),
                    content: vec![OutputText::new(text)],
                }
            }
            Open::Call {
                call_id,
                name,
                arguments,
            } => {
                let item_id = format!("fc_{call_id}");
                out.push(self.event(
                    "response.function_call_arguments.done",
                    json!({"item_id": item_id, "output_index": output_index,
                           "name": name, "arguments": arguments}),
                ));
                OutputItem::FunctionCall {
                    id: item_id,
                    call_id,
                    name,
                    arguments,
                    status: "completed".to_owned(),
                }
            }
        };
        out.push(self.event(
            "response.output_item.done",
            json!({"output_index": output_index, "item": item}),
        ));
        self.done.push(item);
    }

    /// One SSE event named `kind`, its data `fields` plus `type` and the
    /// next `sequence_number`.
    fn event(&mut self, kind: &str, mut fields: Value) -> Bytes {
        if let Value::Object(map) = &mut fields {
            map.insert("type".to_owned(), Value::String(kind.to_owned()));
            map.insert("sequence_number".to_owned(), Value::from(self.sequence));
        }
        self.sequence += 1;
        sse::encode(&SseEvent {
            event: Some(kind.to_owned()),
            data: fields.to_string(),
            id: None,
            retry: None,
        })
    }
}
