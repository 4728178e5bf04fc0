package dev.delora.djl.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.core.Linear;
import ai.djl.nn.transformer.ScaledDotProductAttentionBlock;
import dev.delora.djl.peft.TestModels;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BlockTreeTest {

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    @Test
    void pathsStripDjlOrdinalsOnlyWhenUnambiguous() {
        Map<String, Block> modules = BlockTree.modules(TestModels.mlp(manager, 4));
        assertEquals(List.of("", "01Linear", "LambdaBlock", "03Linear"), List.copyOf(modules.keySet()));

        ScaledDotProductAttentionBlock attention = ScaledDotProductAttentionBlock.builder()
                .setEmbeddingSize(8)
                .setHeadCount(2)
                .build();
        assertEquals(
                List.of(
                        "",
                        "keyProjection",
                        "queryProjection",
                        "valueProjection",
                        "resultProjection",
                        "probabilityDropout"),
                List.copyOf(BlockTree.modules(attention).keySet()));
    }

    @Test
    void parameterKeysAreModulePathPlusName() {
        TestModels.TwoTower tower = new TestModels.TwoTower();
        tower.initialize(manager, DataType.FLOAT32, new Shape(2, 5));
        assertEquals(
                List.of("proj.weight", "proj.bias", "gate.weight"),
                List.copyOf(BlockTree.parameters(tower).keySet()));
    }

    @Test
    void replacementThatDoesNotFitAFieldChangesNothing() {
        TestModels.TwoTower tower = new TestModels.TwoTower();
        tower.initialize(manager, DataType.FLOAT32, new Shape(2, 5));
        Linear oldProj = tower.proj();
        Block notALinear = ai.djl.nn.Blocks.identityBlock();
        IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> BlockTree.replace(tower, Map.of(oldProj, notALinear)));
        assertEquals(true, e.getMessage().contains("proj"), e.getMessage());
        assertSame(oldProj, tower.proj());
        assertSame(oldProj, tower.getChildren().get("01proj"));
    }
}
