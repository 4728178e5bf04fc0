package dev.delora.djl.peft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SequentialBlock;
import dev.delora.core.AdapterConfig;
import dev.delora.core.delora.DeloraConfig;
import dev.delora.core.delora.DeloraInit;
import dev.delora.core.lora.LoraAdapter;
import dev.delora.core.sora.SoraAdapter;
import dev.delora.core.sora.SoraConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Converting any adapter to plain LoRA keeps the model's outputs; SoRA pruning reports ranks and sizes. */
class LoraConversionTest {

    private NDManager manager;

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(4);
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    @Test
    void soraPruningGivesTheGatedOutputsWithSmallerRanks() {
        SequentialBlock mlp = TestModels.mlp(manager, 6);
        AdaptedModel peft = AdaptedModel.inject(
                mlp,
                SoraConfig.builder()
                        .r(4)
                        .loraAlpha(8)
                        .targetModules("01Linear", "03Linear")
                        .build());
        // train-like state: non-zero B, some gates driven to exactly zero by the proximal step
        for (AdaptedLinear m : peft.adaptedModules().values()) {
            SoraAdapter a = (SoraAdapter) m.adapters().get("default");
            a.parameters()
                    .get(SoraAdapter.B)
                    .getArray()
                    .set(
                            new NDIndex(":"),
                            manager.randomNormal(
                                    a.parameters().get(SoraAdapter.B).getArray().getShape()));
        }
        SoraAdapter first =
                (SoraAdapter) peft.adaptedModules().get("01Linear").adapters().get("default");
        first.gate().getArray().set(new NDIndex("0, 1:3"), 0f);
        SoraAdapter second =
                (SoraAdapter) peft.adaptedModules().get("03Linear").adapters().get("default");
        second.gate().getArray().set(new NDIndex("0, :"), 0f);

        NDArray x = manager.randomNormal(new Shape(5, 6));
        NDArray gated = TestModels.forward(mlp, manager, x);
        LoraConversion c = peft.convertToLora("default");
        assertTrue(TestModels.maxAbsDiff(gated, TestModels.forward(mlp, manager, x)) < 1e-6);
        assertEquals(Map.of("01Linear", 4, "03Linear", 4), c.ranksBefore());
        assertEquals(Map.of("01Linear", 2, "03Linear", 1), c.ranksAfter());
        assertEquals(4 * (6 + 8) + 4 + 4 * (8 + 3) + 4, c.parametersBefore());
        assertEquals(2 * (6 + 8) + (8 + 3), c.parametersAfter());
        assertEquals("LORA", peft.adapters().get("default").peftType());
        assertEquals(2, c.config().rankFor("01Linear"));
        assertInstanceOf(
                LoraAdapter.class,
                peft.adaptedModules().get("01Linear").adapters().get("default"));
    }

    @Test
    void deloraConvertsExactlyInBothModes() {
        for (DeloraInit init : List.of(DeloraInit.PAPER, DeloraInit.RANDOM)) {
            AdapterConfig config = DeloraConfig.builder()
                    .r(2)
                    .deloraLambda(5)
                    .init(init)
                    .targetModules("01Linear")
                    .build();
            SequentialBlock mlp = TestModels.mlp(manager, 6);
            AdaptedModel peft = AdaptedModel.inject(mlp, config);
            peft.adaptedModules()
                    .get("01Linear")
                    .adapters()
                    .get("default")
                    .parameters()
                    .get("delora_B")
                    .getArray()
                    .addi(0.5f);
            NDArray x = manager.randomNormal(new Shape(5, 6));
            NDArray before = TestModels.forward(mlp, manager, x);
            LoraConversion c = peft.convertToLora("default");
            assertTrue(TestModels.maxAbsDiff(before, TestModels.forward(mlp, manager, x)) < 1e-5, init.name());
            assertEquals(init == DeloraInit.PAPER ? 4 : 2, c.ranksAfter().get("01Linear"));
            assertEquals(c.ranksAfter().get("01Linear"), c.config().alphaFor("01Linear"), 0f, "scaling folded to 1");
        }
    }
}
